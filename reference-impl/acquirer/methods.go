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
	// CustomerToken is the customer's AP token, if the Partner knows the customer.
	CustomerToken string
	Network       Network
}

// PaymentMethods fetches Klarna's Payment Presentation, personalised with the Partner's Klarna
// Network data and the customer's Klarna token, and returns it as payment methods: none when
// Klarna is not to be shown.
func (s *Service) PaymentMethods(ctx context.Context, partner Partner, req PaymentMethodsRequest) ([]PaymentMethod, error) {
	params := klarna.PresentationParams{
		AccountID:           partner.KlarnaAccountID,
		CorrelationID:       RequestID(ctx),
		Currency:            req.Currency,
		Locale:              req.Locale,
		Amount:              req.Amount,
		Intents:             req.Intents,
		NetworkSessionToken: req.Network.SessionToken,
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
	opt := pres.PaymentOption
	if pres.Instruction == klarna.InstructionHide || opt == nil {
		return []PaymentMethod{}, nil
	}
	return []PaymentMethod{{
		Type:            "klarna",
		Instruction:     pres.Instruction,
		Preselected:     pres.Instruction == klarna.InstructionPreselect,
		PaymentOptionID: opt.PaymentOptionID,
		Header:          opt.Header,
		Subheader:       opt.Subheader,
		Icon:            opt.Icon,
		Message:         opt.Message,
		PaymentButton:   opt.PaymentButton,
	}}, nil
}
