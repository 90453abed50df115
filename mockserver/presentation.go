package mockserver

import (
	"errors"
	"strconv"
	"strings"
)

// Payment presentation instructions (docs/klarna.md §9).
const (
	InstructionShow      = "SHOW_KLARNA"
	InstructionPreselect = "PRESELECT_KLARNA"
	InstructionShowOnly  = "SHOW_ONLY_KLARNA"
	InstructionHide      = "HIDE_KLARNA"
)

// The intents Klarna lists for the payment presentation (docs/klarna.md §9).
const (
	IntentPay         = "PAY"
	IntentSubscribe   = "SUBSCRIBE"
	IntentDonate      = "DONATE"
	IntentSignup      = "SIGNUP"
	IntentSignin      = "SIGNIN"
	IntentAddToWallet = "ADD_TO_WALLET"
)

// Message part types and the link context the mock sends (docs/klarna.md §9).
const (
	PartText    = "TEXT"
	PartLink    = "LINK"
	ContextInfo = "INFO"
)

// The mock's payment option ids: one for Klarna as any customer sees it, one for a known
// customer's saved Klarna payment option.
const (
	paymentOptionID      = "klarna"
	savedPaymentOptionID = "klarna-saved"
)

// The mock's placeholder images and link. Klarna serves its own URLs; these only need to be
// well-formed for a Partner's renderer.
const (
	assetBase      = "https://x.klarnacdn.net/payment-method/assets/"
	learnMoreURL   = "https://www.klarna.com/"
	learnMoreLabel = "Learn more"
)

// SupportedCurrencies are the currencies Klarna is seen to take; for others the presentation
// says HIDE_KLARNA, as Klarna does where it is not offered.
var SupportedCurrencies = map[string]bool{
	"AUD": true, "EUR": true, "CAD": true, "CZK": true, "DKK": true, "HUF": true, "MXN": true, "NZD": true,
	"NOK": true, "PLN": true, "RON": true, "SEK": true, "CHF": true, "GBP": true, "USD": true,
}

// PresentationQuery is what GET .../payment/presentation is asked.
type PresentationQuery struct {
	AccountID string
	Currency  string
	Locale    string
	Amount    int64
	// Intents in the order the Partner gave them; the first decides the button and message.
	Intents []string
	// SubscriptionBillingInterval (DAY, WEEK, MONTH, YEAR) and its frequency describe a
	// subscription's billing, for the SUBSCRIBE intent; a frequency of 0 means 1.
	SubscriptionBillingInterval          string
	SubscriptionBillingIntervalFrequency int
	CustomerToken                        string
	SessionToken                         string
	SessionHeader                        string
}

// Presentation tells the Partner how to show Klarna in its payment selector: Klarna as any
// customer sees it and, for a customer Klarna knows, that customer's saved payment option.
type Presentation struct {
	Instruction        string         `json:"instruction"`
	PaymentOption      *PaymentOption `json:"payment_option,omitempty"`
	SavedPaymentOption *PaymentOption `json:"saved_payment_option,omitempty"`
}

// PaymentOption holds the descriptors of one Klarna entry in the payment selector.
type PaymentOption struct {
	PaymentOptionID string `json:"payment_option_id"`
	Header          Text   `json:"header"`
	Subheader       Text   `json:"subheader"`
	Icon            Icon   `json:"icon"`
	// Badge marks the saved payment option; the plain one has none.
	Badge         *Text         `json:"badge,omitempty"`
	Message       *Message      `json:"message,omitempty"`
	PaymentButton PaymentButton `json:"payment_button"`
}

// Text is a piece of text to show.
type Text struct {
	Text string `json:"text"`
}

// Message is the text to show when the option is selected, in parts so links can be rendered.
type Message struct {
	Parts []MessagePart `json:"parts"`
}

// MessagePart is plain text (TEXT) or a link (LINK, with URL and the context telling how to
// open it).
type MessagePart struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	URL     string `json:"url,omitempty"`
	Context string `json:"context,omitempty"`
}

// Icon points at Klarna's images in the shapes a payment selector uses.
type Icon struct {
	Alt               string `json:"alt"`
	BadgeImageURL     string `json:"badge_image_url"`
	RectangleImageURL string `json:"rectangle_image_url"`
	SquareImageURL    string `json:"square_image_url"`
}

// PaymentButton describes the Klarna payment button: its label and the Klarna mark shown on it.
type PaymentButton struct {
	Text     string `json:"text"`
	ImageURL string `json:"image_url"`
}

// Presentation answers the payment presentation: SHOW_KLARNA by default; PRESELECT_KLARNA with
// the customer's saved payment option for a customer Klarna knows (any active customer token
// of the account, or a valid network session token); HIDE_KLARNA for a currency Klarna does
// not take. Unknown or revoked tokens and unknown intents are input errors, as on authorize.
func (s *Service) Presentation(q PresentationQuery) (*Presentation, error) {
	for _, in := range q.Intents {
		if !knownIntent(in) {
			return nil, Invalid("intents[]", "unknown intent "+strconv.Quote(in)+"; Klarna lists PAY, SUBSCRIBE, DONATE, SIGNUP, SIGNIN and ADD_TO_WALLET")
		}
	}
	if !SupportedCurrencies[strings.ToUpper(q.Currency)] {
		return &Presentation{Instruction: InstructionHide}, nil
	}
	known, err := s.knownCustomer(q)
	if err != nil {
		return nil, err
	}
	msg := message(q)
	p := &Presentation{
		Instruction: InstructionShow,
		PaymentOption: &PaymentOption{
			PaymentOptionID: paymentOptionID,
			Header:          Text{Text: "Klarna"},
			Subheader:       Text{Text: "Pay in full today, in 4 interest-free payments, or in 30 days."},
			Icon:            klarnaIcon(),
			Message:         msg,
			PaymentButton:   button(q.Intents),
		},
	}
	if known {
		p.Instruction = InstructionPreselect
		p.SavedPaymentOption = &PaymentOption{
			PaymentOptionID: savedPaymentOptionID,
			Header:          Text{Text: "Klarna"},
			Subheader:       Text{Text: "Your saved Klarna payment option"},
			Icon:            klarnaIcon(),
			Badge:           &Text{Text: "Saved"},
			Message:         msg,
			PaymentButton:   button(q.Intents),
		}
	}
	return p, nil
}

// knownCustomer reports whether the query names a customer Klarna knows: an active customer
// token of the account, whatever its purchase carried, or a valid network session token.
func (s *Service) knownCustomer(q PresentationQuery) (bool, error) {
	known := false
	err := s.store.View(func(tx Tx) error {
		if q.CustomerToken != "" {
			ct, err := tx.CustomerToken(q.AccountID, q.CustomerToken)
			if errors.Is(err, ErrNotFound) || (err == nil && ct.Status != TokenActive) {
				return Invalid(HeaderCustomerToken, "the customer token is unknown to this account or revoked")
			}
			if err != nil {
				return err
			}
			known = true
		}
		if q.SessionToken != "" {
			if _, err := networkSession(tx, q.AccountID, q.SessionToken, q.SessionHeader); err != nil {
				return err
			}
			known = true
		}
		return nil
	})
	return known, err
}

func knownIntent(intent string) bool {
	switch intent {
	case IntentPay, IntentSubscribe, IntentDonate, IntentSignup, IntentSignin, IntentAddToWallet:
		return true
	}
	return false
}

// firstIntent is the intent that decides the button and message: the Partner's first, PAY by
// default.
func firstIntent(intents []string) string {
	if len(intents) == 0 {
		return IntentPay
	}
	return intents[0]
}

func klarnaIcon() Icon {
	return Icon{
		Alt:               "Klarna",
		BadgeImageURL:     assetBase + "badges/generic/klarna.svg",
		RectangleImageURL: assetBase + "rectangles/generic/klarna.svg",
		SquareImageURL:    assetBase + "squares/generic/klarna.svg",
	}
}

// button labels the payment button after the first intent, with the labels of Klarna's
// payment button; ADD_TO_WALLET has no label of its own there and gets "Continue".
func button(intents []string) PaymentButton {
	label := "Pay"
	switch firstIntent(intents) {
	case IntentSubscribe:
		label = "Subscribe"
	case IntentDonate:
		label = "Donate"
	case IntentSignup:
		label = "Sign up"
	case IntentSignin:
		label = "Sign in"
	case IntentAddToWallet:
		label = "Continue"
	}
	return PaymentButton{Text: label + " with Klarna", ImageURL: assetBase + "badges/generic/white/klarna.svg"}
}

// message describes what the amount costs the customer, followed by a link to learn more; there
// is none without an amount (an ADD_TO_WALLET, SIGNUP or SIGNIN call leaves it out).
func message(q PresentationQuery) *Message {
	if q.Amount <= 0 {
		return nil
	}
	amount := FormatMoney(q.Amount, q.Currency)
	var text string
	switch firstIntent(q.Intents) {
	case IntentSubscribe:
		text = "Pay " + amount + billingPeriod(q.SubscriptionBillingInterval, q.SubscriptionBillingIntervalFrequency) + " with Klarna. "
	case IntentDonate:
		text = "Donate " + amount + " with Klarna. "
	default:
		text = "4 interest-free payments of " + FormatMoney(ceilDiv(q.Amount, 4), q.Currency) + ". "
	}
	return &Message{Parts: []MessagePart{
		{Type: PartText, Text: text},
		{Type: PartLink, Text: learnMoreLabel, URL: learnMoreURL, Context: ContextInfo},
	}}
}

// billingPeriod is " every month", " every 3 weeks", and so on; empty without an interval.
func billingPeriod(interval string, frequency int) string {
	if interval == "" {
		return ""
	}
	unit := strings.ToLower(interval)
	if frequency <= 1 {
		return " every " + unit
	}
	return " every " + strconv.Itoa(frequency) + " " + unit + "s"
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
