package mail_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/mail"
)

func TestOutbox_WritesReadableMessagesInOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o := mail.NewOutbox(dir)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	o.Now = func() time.Time { at = at.Add(time.Second); return at }
	ctx := context.Background()
	long := "請按以下連結確認：https://api.example.com/v1/companies/confirm?token=c-abc.0123456789012345678901234567890123456789012=\n第二行"
	require.NoError(t, o.Send(ctx, mail.Message{From: "Lantau <no-reply@lantau.dev>", To: "chan@acme.com.hk",
		Subject: "確認你的 Lantau 公司帳戶", Text: long, Kind: "company-confirmation", Tenant: "c-1"}))
	require.NoError(t, o.Send(ctx, mail.Message{From: "no-reply@lantau.dev", To: "wong@acme.com.hk", Subject: "Second", Text: "hi"}))

	got, err := o.List()
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "chan@acme.com.hk", got[0].To)
	assert.Equal(t, "確認你的 Lantau 公司帳戶", got[0].Subject)
	assert.Equal(t, long, got[0].Text)
	assert.Equal(t, "company-confirmation", got[0].Kind)
	assert.Equal(t, "c-1", got[0].Tenant)
	assert.Equal(t, `"Lantau" <no-reply@lantau.dev>`, got[0].From)
	assert.NotEmpty(t, got[0].ID)
	assert.Equal(t, "Second", got[1].Subject)

	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	require.Len(t, files, 2)
	raw, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Contains(t, string(raw), "https://api.example.com/v1/companies/confirm?token=c-abc.", "links stay copyable in the file")
	info, err := os.Stat(files[0])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "messages hold one-time links")
}

func TestOutbox_RefusesHeaderInjectionAndBadAddresses(t *testing.T) {
	o := mail.NewOutbox(t.TempDir())
	ctx := context.Background()
	for name, m := range map[string]mail.Message{
		"subject line break": {From: "a@b.co", To: "c@d.co", Subject: "hi\r\nBcc: x@y.co"},
		"to with name":       {From: "a@b.co", To: "C <c@d.co>", Subject: "hi"},
		"to not an address":  {From: "a@b.co", To: "nobody", Subject: "hi"},
		"no subject":         {From: "a@b.co", To: "c@d.co"},
	} {
		assert.ErrorIs(t, o.Send(ctx, m), mail.ErrInvalid, name)
	}
	got, err := o.List()
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestOutbox_ConcurrentSendsAllArrive(t *testing.T) {
	o := mail.NewOutbox(t.TempDir())
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			assert.NoError(t, o.Send(context.Background(), mail.Message{From: "a@b.co", To: "c@d.co", Subject: "s", Text: "t"}))
		})
	}
	wg.Wait()
	got, err := o.List()
	require.NoError(t, err)
	assert.Len(t, got, 20)
}

func TestEncode_LongLinesGoQuotedPrintable(t *testing.T) {
	m := mail.Message{From: "a@b.co", To: "c@d.co", Subject: "s", Text: strings.Repeat("長", 400) + "=end", Date: time.Unix(0, 0)}
	raw, err := mail.Encode(m)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "Content-Transfer-Encoding: quoted-printable")
	back, err := mail.Decode(raw)
	require.NoError(t, err)
	assert.Equal(t, m.Text, back.Text)
}

func TestOutbox_MissingDirectoryIsEmpty(t *testing.T) {
	got, err := mail.NewOutbox(filepath.Join(t.TempDir(), "none")).List()
	require.NoError(t, err)
	assert.Empty(t, got)
}
