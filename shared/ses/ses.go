// Package ses sends Lantau's mail through Amazon SES (API v2) with
// aws-sdk-go-v2. Locally the runner answers SendEmail and writes each
// message to its outbox, so the same code runs on a laptop and on AWS.
package ses

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/problem"
)

// SendEmailAPI is the one SDK operation the sender needs (*sesv2.Client).
type SendEmailAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Headers that carry mail.Message's Kind and Tenant, as shared/mail's
// Outbox writes them.
const (
	HeaderKind   = "X-Lantau-Kind"
	HeaderTenant = "X-Lantau-Tenant"
)

// Sender sends each message as one SES "simple" message: the subject and
// the text body in UTF-8 (SES encodes them for the wire), Kind and Tenant as
// X-Lantau-* headers.
type Sender struct {
	API SendEmailAPI
	// ConfigurationSet names an SES configuration set (event publishing,
	// dedicated IPs); "" means none.
	ConfigurationSet string
}

var _ mail.Sender = (*Sender)(nil)

// New returns a sender over api.
func New(api SendEmailAPI) *Sender { return &Sender{API: api} }

// NewFromEnv builds the SES v2 client for the function's environment
// (AWS_ENDPOINT_URL_SESV2 points it at the local runner) and a sender.
func NewFromEnv(cfg aws.Config, env function.Env) *Sender {
	client := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = awsconfig.Endpoint(env, sesv2.ServiceID) })
	return New(client)
}

// Send hands m to SES. A message that fails mail.Message.Validate is
// refused before any call (the error wraps mail.ErrInvalid). SES's refusals
// of the message or the sender (not verified, rejected) are Internal:
// configuration to fix, not worth retrying. Throttling, a paused or
// suspended account and network failures are Unavailable.
func (s *Sender) Send(ctx context.Context, m mail.Message) error {
	const op = "ses.Send"
	if err := m.Validate(); err != nil {
		return problem.E(op, problem.Internal, err)
	}
	utf8 := aws.String("UTF-8")
	msg := &types.Message{
		Subject: &types.Content{Data: aws.String(m.Subject), Charset: utf8},
		Body:    &types.Body{Text: &types.Content{Data: aws.String(m.Text), Charset: utf8}},
	}
	for _, h := range []struct{ name, value string }{{HeaderKind, m.Kind}, {HeaderTenant, m.Tenant}} {
		if h.value != "" {
			msg.Headers = append(msg.Headers, types.MessageHeader{Name: aws.String(h.name), Value: aws.String(h.value)})
		}
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content:          &types.EmailContent{Simple: msg},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	if _, err := s.API.SendEmail(ctx, in); err != nil {
		return mapError(op, err)
	}
	return nil
}

// mapError gives an SES failure its kind; the SDK error stays the cause
// (errors.As finds its type).
func mapError(op string, err error) error {
	var (
		throttled *types.TooManyRequestsException
		limited   *types.LimitExceededException
		paused    *types.SendingPausedException
		suspended *types.AccountSuspendedException
		bad       *types.BadRequestException
		rejected  *types.MessageRejected
		unknown   *types.MailFromDomainNotVerifiedException
		notFound  *types.NotFoundException
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return problem.E(op, problem.Timeout, err)
	case errors.As(err, &throttled), errors.As(err, &limited):
		return problem.E(op, problem.Unavailable, err, time.Second)
	case errors.As(err, &paused), errors.As(err, &suspended):
		return problem.E(op, problem.Unavailable, err)
	case errors.As(err, &bad), errors.As(err, &rejected), errors.As(err, &unknown), errors.As(err, &notFound):
		return problem.E(op, problem.Internal, err)
	}
	return problem.E(op, problem.Unavailable, err)
}
