package dashboard

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
)

// faultOperations and faultEffects are what the fault form offers, as the faults package names
// them.
var (
	faultOperations = []faults.Operation{faults.Authorize, faults.PaymentRequestCreate, faults.PaymentRequestRead,
		faults.PaymentRequestUpdate, faults.PaymentRequestCancel, faults.Transaction, faults.Presentation,
		faults.Tokens, faults.Notifications, faults.All}
	faultEffects  = []faults.Effect{faults.Error, faults.Latency, faults.Hang, faults.Drop, faults.Truncate}
	faultStatuses = []int{429, 500, 502, 503, 504}
)

type faultsData struct {
	Enabled    bool
	Faults     []faults.View
	Operations []faults.Operation
	Effects    []faults.Effect
	Statuses   []int
	// Editing is the fault the form edits; nil when it adds one.
	Editing *faults.View
	Form    faultFields
}

// faultFields are the fault form's values as text: empty for a new fault, a fault's definition
// to edit, or what a refused form sent, to fix.
type faultFields struct {
	Operations []faults.Operation
	Effect     faults.Effect
	// The other fields are as typed, numbers too, so that a refused form comes back as it was.
	Status, RetryAfter, LatencyMS, Count, Probability, Seed, When, Description string
}

// Has reports whether the form names op, for its checkbox.
func (ff faultFields) Has(op faults.Operation) bool { return slices.Contains(ff.Operations, op) }

// fieldsOfForm reads the posted fault form; checked has parsed it.
func fieldsOfForm(r *http.Request) faultFields {
	f := r.PostForm
	ff := faultFields{Effect: faults.Effect(f.Get("effect")),
		Status: f.Get("status"), RetryAfter: f.Get("retry_after"), LatencyMS: f.Get("latency_ms"), Count: f.Get("count"),
		Probability: f.Get("probability"), Seed: f.Get("seed"), When: f.Get("when"), Description: f.Get("description")}
	for _, op := range f["operations"] {
		ff.Operations = append(ff.Operations, faults.Operation(op))
	}
	return ff
}

// fieldsOfFault fills the form with v's definition, the defaults it took included, so that the
// form saved unchanged defines the same fault.
func fieldsOfFault(v faults.View) faultFields {
	num := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	ff := faultFields{Operations: v.Operations, Effect: v.Effect, Status: num(v.Status),
		LatencyMS: num(v.LatencyMS), Count: num(v.Count), When: string(v.When), Description: v.Description}
	if v.RetryAfter != nil {
		ff.RetryAfter = strconv.Itoa(*v.RetryAfter)
	}
	if v.Probability != 0 {
		ff.Probability = strconv.FormatFloat(v.Probability, 'g', -1, 64)
	}
	if v.Seed != nil {
		ff.Seed = strconv.FormatInt(*v.Seed, 10)
	}
	return ff
}

func (db *Dashboard) faultsPage(w http.ResponseWriter, r *http.Request, s *session) error {
	db.showFaults(w, r, s, nil, faultFields{}, nil)
	return nil
}

// showFaults renders the faults page with the form adding a fault, or editing the fault
// editing, filled with form; err is why the form came back, shown at its status.
func (db *Dashboard) showFaults(w http.ResponseWriter, r *http.Request, s *session, editing *faults.View, form faultFields, err error) {
	d := faultsData{Enabled: db.Faults != nil, Operations: faultOperations, Effects: faultEffects, Statuses: faultStatuses,
		Editing: editing, Form: form}
	if db.Faults != nil {
		d.Faults = db.Faults.List(s.tenant)
	}
	p, status := base(r, s, "Faults", "faults", d), http.StatusOK
	if editing != nil {
		// The list, not the edit page, is the live part's source: the fault edited may retire
		// meanwhile, and its page then answers 404.
		p.Title, p.Live = "Edit a fault", Path+"/faults"
	}
	if err != nil {
		ke := mockserver.AsError(err)
		p.Error, p.Problems, p.Notice, status = ke.ErrorMessage, problems(ke), "", ke.Status
	}
	db.render(w, r, status, "faults", p)
}

// errNoFaults answers the fault actions of a mock built without faults.
func errNoFaults() error {
	return mockserver.NewError(mockserver.CodeNotFound, "This mock has no faults to set.")
}

// faultOf returns the tenant's fault id; another tenant's, a retired or an unknown one is a 404
// NOT_FOUND, as DELETE /mock/v1/faults/{fault_id} answers it.
func (db *Dashboard) faultOf(tenant, id string) (faults.View, error) {
	if db.Faults == nil {
		return faults.View{}, errNoFaults()
	}
	for _, v := range db.Faults.List(tenant) {
		if v.ID == id {
			return v, nil
		}
	}
	return faults.View{}, mockserver.NotFound("Fault", id)
}

// addFromForm gives the tenant the fault form defines, checked as POST /mock/v1/faults checks it.
func (db *Dashboard) addFromForm(tenant string, form faultFields) error {
	def, err := form.definition()
	if err == nil {
		_, err = db.Faults.Add(tenant, def, db.Service.ClockOf(tenant).Now())
	}
	return err
}

// addFault adds the fault the form defines; a refused form comes back, filled, to fix.
func (db *Dashboard) addFault(w http.ResponseWriter, r *http.Request, s *session) error {
	if db.Faults == nil {
		return errNoFaults()
	}
	form := fieldsOfForm(r)
	if err := db.addFromForm(s.tenant, form); err != nil {
		db.showFaults(w, r, s, nil, form, err)
		return nil
	}
	db.Hub.Notify(s.tenant, Change{Kind: ChangeFaults})
	return done(w, r, Path+"/faults", "fault")
}

// faultPage is the faults page with the form filled with one fault's definition, to edit.
func (db *Dashboard) faultPage(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := db.faultOf(s.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	db.showFaults(w, r, s, &v, fieldsOfFault(v), nil)
	return nil
}

// editFault replaces a fault of the tenant with the one the form defines. The API has no update,
// so the edited fault is added as a new one first, checked as POST /mock/v1/faults checks it,
// and the old one removed after: a refused form changes nothing and comes back to fix.
func (db *Dashboard) editFault(w http.ResponseWriter, r *http.Request, s *session) error {
	old, err := db.faultOf(s.tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	form := fieldsOfForm(r)
	if err := db.addFromForm(s.tenant, form); err != nil {
		db.showFaults(w, r, s, &old, form, err)
		return nil
	}
	// Delete fails only when the old fault is gone already (its count spent since it was read,
	// or removed from elsewhere), which is what the edit wants too.
	_ = db.Faults.Delete(s.tenant, old.ID)
	db.Hub.Notify(s.tenant, Change{Kind: ChangeFaults})
	return done(w, r, Path+"/faults", "fault-edit")
}

// definition reads the form into a fault's definition; the registry checks what it means.
func (ff faultFields) definition() (faults.Definition, error) {
	def := faults.Definition{Operations: ff.Operations, Effect: ff.Effect, Description: strings.TrimSpace(ff.Description)}
	if when := strings.TrimSpace(ff.When); when != "" {
		if !json.Valid([]byte(when)) {
			return def, mockserver.Invalid("when", "is not JSON; write the conditions as a JSON object, such as {\"amount_above\": 10000}")
		}
		def.When = json.RawMessage(when)
	}
	for _, n := range []struct {
		field, value string
		into         *int
	}{{"status", ff.Status, &def.Status}, {"latency_ms", ff.LatencyMS, &def.LatencyMS}, {"count", ff.Count, &def.Count}} {
		v, err := formInt(n.value, n.field, 32)
		if err != nil {
			return def, err
		}
		*n.into = int(v)
	}
	if strings.TrimSpace(ff.RetryAfter) != "" {
		n, err := formInt(ff.RetryAfter, "retry_after", 32)
		if err != nil {
			return def, err
		}
		ra := int(n)
		def.RetryAfter = &ra
	}
	if v := strings.TrimSpace(ff.Probability); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return def, mockserver.Invalid("probability", "is not a number")
		}
		def.Probability = p
	}
	if strings.TrimSpace(ff.Seed) != "" {
		// 64 bits: the seed the mock picks for a fault without one is any int64.
		n, err := formInt(ff.Seed, "seed", 64)
		if err != nil {
			return def, err
		}
		def.Seed = &n
	}
	return def, nil
}

// formInt reads an integer form field of bits bits; empty is 0.
func formInt(v, field string, bits int) (int64, error) {
	if v = strings.TrimSpace(v); v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, bits)
	if err != nil {
		return 0, mockserver.Invalid(field, "is not a whole number")
	}
	return n, nil
}

func (db *Dashboard) deleteFault(w http.ResponseWriter, r *http.Request, s *session) error {
	if db.Faults == nil {
		return errNoFaults()
	}
	if err := db.Faults.Delete(s.tenant, r.PathValue("id")); err != nil {
		return err
	}
	db.Hub.Notify(s.tenant, Change{Kind: ChangeFaults})
	return done(w, r, Path+"/faults", "fault-off")
}

func (db *Dashboard) deleteFaults(w http.ResponseWriter, r *http.Request, s *session) error {
	if db.Faults == nil {
		return errNoFaults()
	}
	if err := db.Faults.Clear(s.tenant); err != nil {
		return err
	}
	db.Hub.Notify(s.tenant, Change{Kind: ChangeFaults})
	return done(w, r, Path+"/faults", "faults-off")
}
