package acquirer

import (
	"context"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// PaymentMethodsRequest asks which payment methods to show for a checkout.
type PaymentMethodsRequest struct {
	Currency string
	Locale   string
	Amount   int64
	Intents  []string
	// SubscriptionBillingInterval and its frequency describe a subscription's billing.
	SubscriptionBillingInterval          string
	SubscriptionBillingIntervalFrequency int
	// CustomerToken is the customer's AP token, if the Partner knows the customer.
	CustomerToken string
	Network       Network
}

// PaymentMethods fetches Klarna's Payment Presentation, personalised with the Partner's Klarna
// Network data and the customer's Klarna token, and returns it as payment methods: none when
// Klarna is not to be shown; a known customer's saved payment option first, then Klarna as
// anyone sees it (docs/klarna.md §9).
func (s *Service) PaymentMethods(ctx context.Context, partner Partner, req PaymentMethodsRequest) ([]PaymentMethod, error) {
	params := klarna.PresentationParams{
		AccountID:                            partner.KlarnaAccountID,
		CorrelationID:                        RequestID(ctx),
		Currency:                             req.Currency,
		Locale:                               req.Locale,
		Amount:                               req.Amount,
		Intents:                              req.Intents,
		NetworkSessionToken:                  req.Network.SessionToken,
		SubscriptionBillingInterval:          req.SubscriptionBillingInterval,
		SubscriptionBillingIntervalFrequency: req.SubscriptionBillingIntervalFrequency,
	}
	if req.CustomerToken != "" {
		// The Partner knows the AP's token; Klarna knows its own.
		t, err := s.ownedToken(partner, req.CustomerToken, "customer_token")
		if err != nil {
			return nil, err
		}
		params.CustomerToken = t.KlarnaToken
	}
	pres, err := s.klarna.Presentation(ctx, params)
	if err != nil {
		return nil, klarnaFailure(err)
	}
	methods := []PaymentMethod{}
	if pres.Instruction == klarna.InstructionHide {
		return methods, nil
	}
	// Klarna preselects one entry: the saved option when there is one.
	preselect := pres.Instruction == klarna.InstructionPreselect
	for _, opt := range []*klarna.PaymentOption{pres.SavedPaymentOption, pres.PaymentOption} {
		if opt == nil {
			continue
		}
		methods = append(methods, PaymentMethod{
			Type:            "klarna",
			Instruction:     pres.Instruction,
			Preselected:     preselect,
			PaymentOptionID: opt.PaymentOptionID,
			Header:          opt.Header,
			Subheader:       opt.Subheader,
			Badge:           opt.Badge,
			Icon:            opt.Icon,
			Message:         opt.Message,
			PaymentButton:   opt.PaymentButton,
		})
		preselect = false
	}
	return methods, nil
}
