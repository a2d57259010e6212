package ses_test

import (
	"bytes"
	"context"
	"errors"
	netmail "net/mail"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/runner/runnertest"
	"github.com/lantau-hq/lantau/shared/mail"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/ses"
)

func message() mail.Message {
	return mail.Message{
		From: "Lantau <no-reply@lantau.dev>", To: "tm.chan@acme.com.hk",
		Subject: "陳大文，請確認你的公司 Acme",
		Text:    "陳大文你好，\n\n請按以下連結確認：\nhttp://127.0.0.1:3000/v1/companies/confirm?token=abc.DEF-123\n",
		Kind:    "company-confirmation", Tenant: "c-123",
	}
}

func TestSender_DeliversChineseMailThroughTheRunnerToTheOutbox(t *testing.T) {
	var echo bytes.Buffer
	aws := runnertest.Start(t, runnertest.Options{MailEcho: &echo})
	sender := ses.NewFromEnv(aws.Config, aws.Env())

	require.NoError(t, sender.Send(context.Background(), message()))

	got, err := mail.NewOutbox(filepath.Join(aws.DataDir, "outbox")).List()
	require.NoError(t, err)
	require.Len(t, got, 1)
	want := message()
	assert.Equal(t, want.To, got[0].To)
	from, err := netmail.ParseAddress(got[0].From)
	require.NoError(t, err)
	assert.Equal(t, "Lantau", from.Name)
	assert.Equal(t, "no-reply@lantau.dev", from.Address)
	assert.Equal(t, want.Subject, got[0].Subject, "the Chinese subject survives SES's UTF-8 charset and the .eml's RFC 2047 words")
	assert.Equal(t, want.Text, got[0].Text)
	assert.Equal(t, want.Kind, got[0].Kind)
	assert.Equal(t, want.Tenant, got[0].Tenant)
	assert.NotEmpty(t, got[0].ID)
	assert.False(t, got[0].Date.IsZero())
	assert.Contains(t, echo.String(), "confirm?token=abc.DEF-123", "the runner echoes the mail")
}

func TestSender_RefusesAnInvalidMessageWithoutCallingSES(t *testing.T) {
	api := &fakeAPI{}
	m := message()
	m.To = "Chan <tm.chan@acme.com.hk>"
	err := ses.New(api).Send(context.Background(), m)
	require.Error(t, err)
	assert.ErrorIs(t, err, mail.ErrInvalid)
	assert.Zero(t, api.calls)
}

type fakeAPI struct {
	calls int
	err   error
	in    *sesv2.SendEmailInput
}

func (f *fakeAPI) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.calls++
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	return &sesv2.SendEmailOutput{MessageId: new(string)}, nil
}

func TestSender_SendsUTF8SimpleContentWithLantauHeaders(t *testing.T) {
	api := &fakeAPI{}
	s := ses.New(api)
	s.ConfigurationSet = "lantau"
	require.NoError(t, s.Send(context.Background(), message()))
	require.NotNil(t, api.in.Content.Simple)
	msg := api.in.Content.Simple
	assert.Equal(t, "UTF-8", *msg.Subject.Charset)
	assert.Equal(t, "UTF-8", *msg.Body.Text.Charset)
	assert.Equal(t, []string{"tm.chan@acme.com.hk"}, api.in.Destination.ToAddresses)
	assert.Equal(t, "lantau", *api.in.ConfigurationSetName)
	headers := map[string]string{}
	for _, h := range msg.Headers {
		headers[*h.Name] = *h.Value
	}
	assert.Equal(t, map[string]string{"X-Lantau-Kind": "company-confirmation", "X-Lantau-Tenant": "c-123"}, headers)
}

func TestSender_MapsSESErrorsToKindsAndKeepsTheCause(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		kind problem.Kind
	}{
		{"throttled", &types.TooManyRequestsException{Message: new(string)}, problem.Unavailable},
		{"daily quota", &types.LimitExceededException{}, problem.Unavailable},
		{"sending paused", &types.SendingPausedException{}, problem.Unavailable},
		{"rejected", &types.MessageRejected{}, problem.Internal},
		{"sender not verified", &types.MailFromDomainNotVerifiedException{}, problem.Internal},
		{"bad request", &types.BadRequestException{}, problem.Internal},
		{"network", errors.New("dial tcp: connection refused"), problem.Unavailable},
		{"deadline", context.DeadlineExceeded, problem.Timeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ses.New(&fakeAPI{err: tc.err}).Send(context.Background(), message())
			require.Error(t, err)
			assert.Equal(t, tc.kind, problem.KindOf(err))
			assert.ErrorIs(t, err, tc.err)
			assert.Contains(t, err.Error(), "ses.Send")
		})
	}
}
