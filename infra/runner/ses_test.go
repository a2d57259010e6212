package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	ssmsdk "github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/mail"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMail starts the fixture with its mail echoed to echo (nil: the default).
func startMail(t *testing.T, echo io.Writer, env map[string]string) *fixture {
	t.Helper()
	f := start(t, "")
	require.NoError(t, f.r.Close())
	f.cfg.MailEcho = echo
	f.cfg.Env = env
	f.restart(t)
	return f
}

func sesClient(f *fixture, key string) *sesv2.Client {
	return sesv2.NewFromConfig(aws.Config{
		Region:      "ap-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(key, SecretAccessKey, ""),
	}, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(f.r.AWSEndpoint()) })
}

func outbox(t *testing.T, f *fixture) []mail.Message {
	t.Helper()
	msgs, err := mail.NewOutbox(filepath.Join(f.cfg.DataDir, "outbox")).List()
	require.NoError(t, err)
	return msgs
}

func TestSES_SimpleMailIsWrittenToTheOutboxPerRecipientAndEchoed(t *testing.T) {
	echo := &syncBuffer{}
	f := startMail(t, echo, nil)
	out, err := sesClient(f, AccessKeyID).SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Lantau <no-reply@lantau.dev>"),
		Destination:      &types.Destination{ToAddresses: []string{"陳大文 <tm.chan@acme.com.hk>"}, BccAddresses: []string{"audit@acme.com.hk"}},
		ReplyToAddresses: []string{"help@lantau.dev"},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String("請確認 Acme 的註冊"), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String("陳大文你好：\nhttp://127.0.0.1:3000/v1/companies/confirm?token=t0k3n\n"), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String("<p>ignored in the outbox</p>"), Charset: aws.String("UTF-8")},
			},
			Headers: []types.MessageHeader{{Name: aws.String("X-Lantau-Kind"), Value: aws.String("company-confirmation")}, {Name: aws.String("X-Lantau-Tenant"), Value: aws.String("c-1")}},
		}},
	})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(out.MessageId))

	msgs := outbox(t, f)
	require.Len(t, msgs, 2, "one file per recipient, Bcc included")
	var to []string
	for _, m := range msgs {
		to = append(to, m.To)
		assert.Equal(t, "請確認 Acme 的註冊", m.Subject)
		assert.Contains(t, m.Text, "陳大文你好")
		assert.NotContains(t, m.Text, "ignored", "the text part is kept when there is one")
		assert.Equal(t, "company-confirmation", m.Kind)
		assert.Equal(t, "c-1", m.Tenant)
		assert.True(t, strings.HasPrefix(m.ID, aws.ToString(out.MessageId)), "the Message-ID carries SES's MessageId")
	}
	assert.ElementsMatch(t, []string{"tm.chan@acme.com.hk", "audit@acme.com.hk"}, to)
	files, err := filepath.Glob(filepath.Join(f.cfg.DataDir, "outbox", "*.eml"))
	require.NoError(t, err)
	raw, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Contains(t, string(raw), "confirm?token=t0k3n\r\n", "the link is greppable in the file, as the README does")
	assert.Contains(t, echo.String(), "--- mail to tm.chan@acme.com.hk: 請確認 Acme 的註冊")
	assert.Contains(t, echo.String(), "confirm?token=t0k3n")
}

func TestSES_RawMailIsWrittenAsGiven(t *testing.T) {
	echo := &syncBuffer{}
	f := startMail(t, echo, nil)
	raw, err := mail.Encode(mail.Message{ID: "m1@lantau.local", From: "no-reply@lantau.dev", To: "wong@acme.com.hk",
		Subject: "邀請", Text: "你好\n", Kind: "invitation"})
	require.NoError(t, err)
	_, err = sesClient(f, AccessKeyID).SendEmail(context.Background(), &sesv2.SendEmailInput{
		Content: &types.EmailContent{Raw: &types.RawMessage{Data: raw}},
	})
	require.NoError(t, err, "sender and recipients come from the raw message's headers")
	files, err := filepath.Glob(filepath.Join(f.cfg.DataDir, "outbox", "*.eml"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	got, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Equal(t, raw, got)
	assert.Contains(t, echo.String(), "--- mail to wong@acme.com.hk: 邀請")
}

func TestSES_EchoIsOffWhenTheRunnerSaysSo(t *testing.T) {
	for name, f := range map[string]func(t *testing.T) *fixture{
		"MailEcho io.Discard":  func(t *testing.T) *fixture { return startMail(t, io.Discard, nil) },
		"LANTAU_ECHO_MAIL=off": func(t *testing.T) *fixture { return startMail(t, nil, map[string]string{"LANTAU_ECHO_MAIL": "off"}) },
	} {
		t.Run(name, func(t *testing.T) {
			assert.Nil(t, f(t).r.mail.outbox.Echo)
		})
	}
	f := startMail(t, nil, nil)
	assert.Equal(t, os.Stderr, f.r.mail.outbox.Echo, "by default the runner prints mail, as `lantau run` should")
}

func TestSES_FunctionsAreToldWhereSESIs(t *testing.T) {
	f := start(t, "")
	for id, fn := range f.r.functions {
		assert.Equal(t, f.r.AWSEndpoint(), fn.Env["AWS_ENDPOINT_URL_SESV2"], id)
	}
}

// signer signs a request as a client would: with key (the runner's
// secret), for region and service; a nil signer sends it unsigned.
type signer func(req *http.Request, body []byte)

func signedAs(key, region, service string) signer {
	return func(req *http.Request, body []byte) {
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
			panic(err)
		}
	}
}

// postSES sends body to SendEmail, signed by sign; tamper, when set,
// changes the body after signing.
func postSES(t *testing.T, f *fixture, sign signer, body any, tamper ...func([]byte) []byte) (int, string, string) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, f.r.AWSEndpoint()+sesOutboundPath, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if sign != nil {
		sign(req, b)
	}
	for _, fn := range tamper {
		b = fn(b)
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Message string `json:"message"`
	}
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), out.Message
}

func TestSES_ValidatesAsSESDoes(t *testing.T) {
	f := startMail(t, io.Discard, nil)
	simple := func(subject, text string) map[string]any {
		return map[string]any{"Subject": map[string]any{"Data": subject, "Charset": "UTF-8"},
			"Body": map[string]any{"Text": map[string]any{"Data": text, "Charset": "UTF-8"}}}
	}
	to := func(n int) map[string]any {
		var a []string
		for i := range n {
			a = append(a, fmt.Sprintf("u%d@acme.com.hk", i))
		}
		return map[string]any{"ToAddresses": a}
	}
	good := func() map[string]any {
		return map[string]any{"FromEmailAddress": "no-reply@lantau.dev", "Destination": to(1), "Content": map[string]any{"Simple": simple("Hi", "Body")}}
	}
	with := func(k string, v any) map[string]any {
		m := good()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"no sender", with("FromEmailAddress", nil), "FromEmailAddress"},
		{"bad sender", with("FromEmailAddress", "not an address"), "FromEmailAddress"},
		{"no recipients", with("Destination", nil), "Destination"},
		{"empty recipients", with("Destination", to(0)), "Destination"},
		{"51 recipients", with("Destination", to(51)), "Recipient count exceeds 50."},
		{"bad recipient", with("Destination", map[string]any{"ToAddresses": []string{"nobody"}}), "Illegal address"},
		{"no content", with("Content", nil), "Content"},
		{"empty content", with("Content", map[string]any{}), "Content"},
		{"two contents", with("Content", map[string]any{"Simple": simple("a", "b"), "Raw": map[string]any{"Data": "AA=="}}), "exactly one"},
		{"template", with("Content", map[string]any{"Template": map[string]any{"TemplateName": "x"}}), "Template"},
		{"no subject", with("Content", map[string]any{"Simple": simple("", "b")}), "Subject"},
		{"no body", with("Content", map[string]any{"Simple": map[string]any{"Subject": map[string]any{"Data": "a"}}}), "Body"},
		{"Chinese without a charset", with("Content", map[string]any{"Simple": map[string]any{
			"Subject": map[string]any{"Data": "陳大文"}, "Body": map[string]any{"Text": map[string]any{"Data": "x"}}}}), "Charset UTF-8"},
		{"raw that is not a message", with("Content", map[string]any{"Raw": map[string]any{"Data": "bm90IGEgbWVzc2FnZQ=="}}), "RFC 5322"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, typ, msg := postSES(t, f, signedAs(AccessKeyID, "ap-east-1", "ses"), tc.body)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Contains(t, []string{"BadRequestException", "MessageRejected"}, typ)
			assert.Contains(t, msg, tc.msg)
		})
	}
	status, _, msg := postSES(t, f, signedAs(AccessKeyID, "ap-east-1", "ses"), good())
	assert.Equal(t, http.StatusOK, status, "the control passes: %s", msg)
	assert.Len(t, outbox(t, f), 1, "only the control was sent")
}

func TestSES_RequiresSigV4ForTheRunnersKeyAndService(t *testing.T) {
	f := startMail(t, io.Discard, nil)
	body := map[string]any{"FromEmailAddress": "no-reply@lantau.dev", "Destination": map[string]any{"ToAddresses": []string{"a@acme.com.hk"}},
		"Content": map[string]any{"Simple": map[string]any{"Subject": map[string]any{"Data": "a"}, "Body": map[string]any{"Text": map[string]any{"Data": "b"}}}}}
	other := func(b []byte) []byte { return bytes.Replace(b, []byte("a@acme.com.hk"), []byte("x@evil.example"), 1) }
	for _, tc := range []struct {
		name   string
		sign   signer
		tamper []func([]byte) []byte
		typ    string
	}{
		{"unsigned", nil, nil, "MissingAuthenticationTokenException"},
		{"other key", signedAs("AKIAOTHER", "ap-east-1", "ses"), nil, "UnrecognizedClientException"},
		{"other service", signedAs(AccessKeyID, "ap-east-1", "ssm"), nil, "InvalidSignatureException"},
		{"other region", signedAs(AccessKeyID, "us-east-1", "ses"), nil, "InvalidSignatureException"},
		{"body changed after signing", signedAs(AccessKeyID, "ap-east-1", "ses"), []func([]byte) []byte{other}, "InvalidSignatureException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, typ, _ := postSES(t, f, tc.sign, body, tc.tamper...)
			assert.Equal(t, http.StatusForbidden, status)
			assert.Equal(t, tc.typ, typ)
		})
	}
	assert.Empty(t, outbox(t, f))

	_, err := sesClient(f, "AKIAOTHER").SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@lantau.dev"), Destination: &types.Destination{ToAddresses: []string{"a@acme.com.hk"}},
		Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("a")}, Body: &types.Body{Text: &types.Content{Data: aws.String("b")}}}},
	})
	var apiErr interface{ ErrorCode() string }
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, "UnrecognizedClientException", apiErr.ErrorCode(), "the SDK reads the runner's error type")
	assert.Empty(t, outbox(t, f))
}

func TestSES_SDKSeesBadRequestException(t *testing.T) {
	f := startMail(t, io.Discard, nil)
	_, err := sesClient(f, AccessKeyID).SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@lantau.dev"),
		Content:          &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("a")}, Body: &types.Body{Text: &types.Content{Data: aws.String("b")}}}},
	})
	var bad *types.BadRequestException
	require.True(t, errors.As(err, &bad), "%v", err)
	assert.Contains(t, bad.ErrorMessage(), "Destination")
}

// Constructors run inside New, as Lambda runs init: they may read their
// parameters and send mail then, but the bus and S3 wait for Start.
func TestRunner_AnswersSSMAndSESWhileBuildingFunctions(t *testing.T) {
	f := start(t, "")
	require.NoError(t, f.r.Close())
	f.cfg.MailEcho = io.Discard
	r, err := New(context.Background(), f.cfg) // not started
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	f.r = r

	_, err = ssmClient(f).PutParameter(context.Background(), &ssmsdk.PutParameterInput{Name: aws.String("/early/p"), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
	require.NoError(t, err)
	_, err = sesClient(f, AccessKeyID).SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@lantau.dev"), Destination: &types.Destination{ToAddresses: []string{"a@acme.com.hk"}},
		Content: &types.EmailContent{Simple: &types.Message{Subject: &types.Content{Data: aws.String("a")}, Body: &types.Body{Text: &types.Content{Data: aws.String("b")}}}},
	})
	require.NoError(t, err)

	resp, err := http.Post(r.AWSEndpoint()+"/", "application/x-amz-json-1.1", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "S3 and the bus answer once Start has run")
	assert.Equal(t, "ServiceUnavailable", resp.Header.Get("X-Amzn-Errortype"))
}
