package mockserver

import (
	"errors"
	"strings"
)

// Payment presentation instructions (docs/klarna.md §9).
const (
	InstructionShow        = "SHOW_KLARNA"
	InstructionPreselect   = "PRESELECT_KLARNA"
	InstructionShowOnly    = "SHOW_ONLY_KLARNA"
	InstructionHide        = "HIDE_KLARNA"
	defaultPaymentOptionID = "klarna"
)

// SupportedCurrencies are the currencies Klarna is seen to take; for others the presentation
// says HIDE_KLARNA, as Klarna does where it is not offered.
var SupportedCurrencies = map[string]bool{
	"AUD": true, "EUR": true, "CAD": true, "CZK": true, "DKK": true, "HUF": true, "MXN": true, "NZD": true,
	"NOK": true, "PLN": true, "RON": true, "SEK": true, "CHF": true, "GBP": true, "USD": true,
}

// PresentationQuery is what GET .../payment/presentation is asked.
type PresentationQuery struct {
	AccountID     string
	Currency      string
	Locale        string
	Amount        int64
	Intents       []string
	CustomerToken string
	SessionToken  string
	SessionHeader string
}

// Presentation tells the Partner how to show Klarna in its payment selector.
type Presentation struct {
	Instruction   string         `json:"instruction"`
	PaymentOption *PaymentOption `json:"payment_option,omitempty"`
}

// PaymentOption holds the descriptors of Klarna in the payment selector.
type PaymentOption struct {
	PaymentOptionID string        `json:"payment_option_id"`
	Header          Text          `json:"header"`
	Subheader       Subheader     `json:"subheader"`
	Icon            Icon          `json:"icon"`
	Message         *Text         `json:"message,omitempty"`
	PaymentButton   PaymentButton `json:"payment_button"`
}

// Text is a piece of text to show.
type Text struct {
	Text string `json:"text"`
}

// Subheader is the line under the header, in a short and an enriched form.
type Subheader struct {
	Short    Text `json:"short"`
	Enriched Text `json:"enriched"`
}

// Icon points at Klarna's badge and logo.
type Icon struct {
	BadgeImageURL string `json:"badge_image_url"`
	LogoURL       string `json:"logo_url"`
}

// PaymentButton describes the Klarna payment button.
type PaymentButton struct {
	Text  string `json:"text"`
	Theme string `json:"theme"`
}

// Presentation answers the payment presentation: SHOW_KLARNA by default, PRESELECT_KLARNA
// personalised for a known customer (an active customer token or an identified network
// session), HIDE_KLARNA for a currency Klarna does not take. Unknown tokens are input errors,
// as on authorize.
func (s *Service) Presentation(q PresentationQuery) (*Presentation, error) {
	if !SupportedCurrencies[strings.ToUpper(q.Currency)] {
		return &Presentation{Instruction: InstructionHide}, nil
	}
	var known string
	err := s.store.View(func(tx Tx) error {
		if q.CustomerToken != "" {
			ct, err := tx.CustomerToken(q.AccountID, q.CustomerToken)
			if errors.Is(err, ErrNotFound) || (err == nil && ct.Status != TokenActive) {
				return Invalid(HeaderCustomerToken, "the customer token is unknown to this account or revoked")
			}
			if err != nil {
				return err
			}
			known = ct.Email
		}
		if q.SessionToken != "" {
			ns, err := networkSession(tx, q.AccountID, q.SessionToken, q.SessionHeader)
			if err != nil {
				return err
			}
			if known == "" {
				known = ns.Email
			}
			if known == "" {
				known = "identified"
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	opt := &PaymentOption{
		PaymentOptionID: defaultPaymentOptionID,
		Header:          Text{Text: "Klarna"},
		Subheader: Subheader{
			Short:    Text{Text: "Pay now or later"},
			Enriched: Text{Text: "Pay in full today, in 4 interest-free payments, or in 30 days."},
		},
		Icon: Icon{
			BadgeImageURL: "https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg",
			LogoURL:       "https://x.klarnacdn.net/payment-method/assets/logos/generic/klarna.svg",
		},
		PaymentButton: PaymentButton{Text: buttonText(q.Intents), Theme: "DARK"},
	}
	instruction := InstructionShow
	if known != "" {
		instruction = InstructionPreselect
		opt.Header.Text = "Klarna: your saved account"
		opt.Subheader.Short.Text = "Pay with your Klarna account in one click"
	}
	if q.Amount > 0 {
		opt.Message = &Text{Text: "4 interest-free payments of " + FormatMoney(ceilDiv(q.Amount, 4), q.Currency)}
	}
	return &Presentation{Instruction: instruction, PaymentOption: opt}, nil
}

func buttonText(intents []string) string {
	for _, in := range intents {
		switch in {
		case "SUBSCRIBE":
			return "Subscribe with Klarna"
		case "ADD_TO_WALLET":
			return "Save Klarna for later"
		}
	}
	return "Pay with Klarna"
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
