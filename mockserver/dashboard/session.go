package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// Cookies the dashboard sets, for the dashboard's paths alone.
const (
	// sessionCookie holds the signed-in tenant's API key (base64url), the credential the API
	// takes, so that every page authenticates as an API call does.
	sessionCookie = "klarna_mock_dashboard"
	// preSessionCookie holds the random token the sign-in form posts back, the form's CSRF
	// check before there is a session to derive one from.
	preSessionCookie = "klarna_mock_dashboard_csrf"
	// csrfField is the form field every POST carries its CSRF token in.
	csrfField = "csrf"
)

// session is a signed-in tenant: by its session cookie, or by an Authorization header as the
// API takes it.
type session struct {
	tenant string
	// csrf is the token the tenant's forms carry, derived from its credential.
	csrf string
}

// view serves a page or an action for a signed-in tenant; an error it returns is shown as an
// error page.
type view func(w http.ResponseWriter, r *http.Request, s *session) error

// authorization is the credential the request signs in with: its Authorization header, else
// the session cookie's key in the API's form; "" for none.
func authorization(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		return h
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	key, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	return "Basic " + string(key)
}

// session authenticates the request as the API does; nil without any credential.
func (db *Dashboard) session(r *http.Request) (*session, error) {
	cred := authorization(r)
	if cred == "" {
		return nil, nil
	}
	tenant, err := db.Server.Authenticate(cred)
	if err != nil {
		return nil, err
	}
	return &session{tenant: tenant, csrf: db.token("session", cred)}, nil
}

// token is the HMAC of what under purpose, keyed by the dashboard's secret.
func (db *Dashboard) token(purpose, what string) string {
	m := hmac.New(sha256.New, db.secret)
	m.Write([]byte(purpose + "\x00" + what))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// signedIn serves v for a signed-in tenant; a request without a credential is sent to the
// sign-in page, one whose credential the mock refuses gets the sign-in page with the reason
// (and loses a stale cookie).
func (db *Dashboard) signedIn(v view) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := db.session(r)
		switch {
		case err != nil && mockserver.AsError(err).Status == http.StatusUnauthorized:
			clearCookie(w, r, sessionCookie)
			db.renderSignIn(w, r, http.StatusUnauthorized, mockserver.AsError(err).ErrorMessage)
			return
		case err != nil:
			db.fail(w, r, nil, err)
			return
		case s == nil:
			http.Redirect(w, r, Path+"/sign-in", http.StatusSeeOther)
			return
		}
		if err := v(w, r, s); err != nil {
			db.fail(w, r, s, err)
		}
	})
}

// checked refuses an action whose form lacks the session's CSRF token, or which comes from
// another origin, with 403 before v runs.
func (db *Dashboard) checked(v view) view {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		if err := sameOrigin(r); err != nil {
			return err
		}
		if !hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(s.csrf)) {
			return errCSRF()
		}
		return v(w, r, s)
	}
}

func errCSRF() error {
	return mockserver.NewError(mockserver.CodeForbidden,
		"The form's security token is missing or out of date (the mock may have restarted). Reload the page and try again.")
}

// sameOrigin refuses a form posted from another origin, when the browser says where it came from.
func sameOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != r.Host {
		return mockserver.NewError(mockserver.CodeForbidden, "The dashboard takes forms from its own pages only.")
	}
	return nil
}

// signInData is the sign-in page's.
type signInData struct{ Token string }

// signInPage serves the sign-in form; a signed-in tenant goes to the overview.
func (db *Dashboard) signInPage(w http.ResponseWriter, r *http.Request) {
	if s, err := db.session(r); err == nil && s != nil {
		http.Redirect(w, r, Path, http.StatusSeeOther)
		return
	}
	db.renderSignIn(w, r, http.StatusOK, "")
}

// renderSignIn shows the sign-in form with the pre-session token, and why signing in failed.
// A browser that has a token keeps it, so that two tabs signing in at once do not void each
// other's forms.
func (db *Dashboard) renderSignIn(w http.ResponseWriter, r *http.Request, status int, why string) {
	tok := rand.Text()
	if c, err := r.Cookie(preSessionCookie); err == nil && len(c.Value) == len(tok) {
		tok = c.Value
	}
	setCookie(w, r, preSessionCookie, tok, 0)
	db.render(w, r, status, "sign-in", page{Title: "Sign in", Error: why, Data: signInData{Token: tok}})
}

// signIn checks the key the form posted as the API checks keys, and keeps it in the session
// cookie.
func (db *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Cookie(preSessionCookie)
	if err := sameOrigin(r); err != nil || c == nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue(csrfField))) {
		db.fail(w, r, nil, errCSRF())
		return
	}
	key := strings.TrimSpace(r.PostFormValue("api_key"))
	if key == "" {
		db.renderSignIn(w, r, http.StatusBadRequest, "Enter your API key.")
		return
	}
	if _, err := db.Server.Authenticate("Basic " + key); err != nil {
		if ke := mockserver.AsError(err); ke.Status == http.StatusUnauthorized || ke.Status == http.StatusForbidden {
			db.renderSignIn(w, r, ke.Status, ke.ErrorMessage)
			return
		}
		db.fail(w, r, nil, err)
		return
	}
	clearCookie(w, r, preSessionCookie)
	setCookie(w, r, sessionCookie, base64.RawURLEncoding.EncodeToString([]byte(key)), 0)
	http.Redirect(w, r, Path, http.StatusSeeOther)
}

// signOut forgets the session cookie. It needs the session's token, so another site cannot
// sign a tenant out.
func (db *Dashboard) signOut(w http.ResponseWriter, r *http.Request) {
	db.signedIn(db.checked(func(w http.ResponseWriter, r *http.Request, _ *session) error {
		clearCookie(w, r, sessionCookie)
		http.Redirect(w, r, Path+"/sign-in", http.StatusSeeOther)
		return nil
	})).ServeHTTP(w, r)
}

// setCookie sets a dashboard cookie: HttpOnly, SameSite=Strict, for the dashboard's paths,
// Secure when the request came over TLS; maxAge as http.Cookie takes it.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) { setCookie(w, r, name, "", -1) }
