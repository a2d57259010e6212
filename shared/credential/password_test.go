package credential_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/shared/credential"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

func TestHash_RoundTripsAndRefusesWrongPasswords(t *testing.T) {
	tests := []struct {
		name, password, attempt string
		ok                      bool
	}{
		{"same", "correct horse battery staple", "correct horse battery staple", true},
		{"wrong", "correct horse battery staple", "correct horse battery stapler", false},
		{"case matters", "Tsim Sha Tsui 2024", "tsim sha tsui 2024", false},
		{"chinese", "我的密碼是青馬大橋", "我的密碼是青馬大橋", true},
		{"full-width typed is NFKC-equal", "ｐａｓｓｐｈｒａｓｅ１２３", "passphrase123", true},
		{"empty attempt", "correct horse battery staple", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := credential.Hash(tt.password)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$"), enc)
			ok, rehash, err := credential.Verify(tt.attempt, enc)
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			assert.False(t, rehash)
		})
	}
}

func TestHash_SaltsEveryHash(t *testing.T) {
	a, err := credential.Hash("same password twice")
	require.NoError(t, err)
	b, err := credential.Hash("same password twice")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestVerify_RefusesTamperedHashesWithoutPanic(t *testing.T) {
	good, err := credential.Hash("correct horse battery staple")
	require.NoError(t, err)
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, hash
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := map[string]string{
		"empty":             "",
		"dollar only":       "$",
		"bcrypt":            "$2b$12$abcdefghijklmnopqrstuuN6E0Z0kq9cI5bq7wYyPp0q0xXn1F6G",
		"argon2i":           with(1, "argon2i"),
		"version 16":        with(2, "v=16"),
		"no version":        strings.Join(append(parts[:2:2], parts[3:]...), "$"),
		"params reordered":  with(3, "t=2,m=19456,p=1"),
		"leading zero":      with(3, "m=019456,t=2,p=1"),
		"plus sign":         with(3, "m=+19456,t=2,p=1"),
		"overflow":          with(3, "m=99999999999,t=2,p=1"),
		"huge memory":       with(3, "m=4194304,t=2,p=1"),
		"zero time":         with(3, "m=19456,t=0,p=1"),
		"huge time":         with(3, "m=19456,t=4294967295,p=1"),
		"zero threads":      with(3, "m=19456,t=2,p=0"),
		"threads over 255":  with(3, "m=19456,t=2,p=257"),
		"memory below 8p":   with(3, "m=8,t=1,p=2"),
		"missing param":     with(3, "m=19456,t=2"),
		"padded salt":       with(4, parts[4]+"=="),
		"bad base64":        with(5, "!!!!"),
		"short salt":        with(4, "AAAA"),
		"short hash":        with(5, "AAAA"),
		"empty hash":        with(5, ""),
		"extra field":       good + "$x",
		"truncated":         good[:len(good)/2],
		"non-canonical b64": with(4, parts[4][:len(parts[4])-1]+"B"),
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			var ok bool
			assert.NotPanics(t, func() { ok, _, err = credential.Verify("correct horse battery staple", enc) })
			assert.False(t, ok)
			require.Error(t, err)
			assert.Equal(t, problem.Internal, problem.KindOf(err))
		})
	}
}

func TestVerify_FlagsHashesMadeWithOtherParameters(t *testing.T) {
	old := credential.NewHasher(credential.Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	enc, err := old.Hash("correct horse battery staple")
	require.NoError(t, err)

	ok, rehash, err := credential.Verify("correct horse battery staple", enc)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, rehash, "weaker parameters than DefaultParams")

	ok, rehash, err = credential.Verify("wrong horse battery staple", enc)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.False(t, rehash, "only a matching password can be rehashed")

	ok, rehash, err = old.Verify("correct horse battery staple", enc)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash)
}

func TestNewHasher_PanicsOnUnusableParameters(t *testing.T) {
	assert.Panics(t, func() {
		credential.NewHasher(credential.Params{Memory: 1 << 30, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	})
}

func TestVerifyDummy_TakesAsLongAsAVerify(t *testing.T) {
	enc, err := credential.Hash("correct horse battery staple")
	require.NoError(t, err)
	timeIt := func(f func()) time.Duration {
		best := time.Hour
		for range 3 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	real := timeIt(func() { _, _, _ = credential.Verify("guess", enc) })
	dummy := timeIt(func() { credential.VerifyDummy("guess") })
	assert.InDelta(t, float64(real), float64(dummy), float64(real)/2, "real %v, dummy %v", real, dummy)
}

func TestCheckPassword_Policy(t *testing.T) {
	tests := []struct {
		name     string
		password string
		personal []string
		codes    []string // FieldError codes, in order; nil: accepted
	}{
		{"passphrase", "correct horse battery staple", nil, nil},
		{"twelve random", "vK8#qz!Lm2@w", nil, nil},
		{"no composition rules: lowercase only", "tramwaysailboatpeak", nil, nil},
		{"chinese passphrase", "我好鍾意喺太平山頂飲奶茶", nil, nil},
		{"too short", "Xk9#mQ2!", nil, []string{"too-short"}},
		{"eleven", "abcdefgh9x!", nil, []string{"too-short"}},
		{"twelve chinese characters are enough", "維多利亞港夜景真係好靚呀", nil, nil},
		{"too long", strings.Repeat("ab3$", 33), nil, []string{"too-long"}},
		{"common", "password1234", nil, []string{"common"}},
		{"common decorated", "P@ssw0rd2024!", nil, []string{"common"}},
		{"common repeated", "QwertyQwerty", nil, []string{"common"}},
		{"hongkong", "HongKong1997!", nil, []string{"common"}},
		{"repeated character", "aaaaaaaaaaaaaa", nil, []string{"repetitive"}},
		{"sequence", "123456789012", nil, []string{"common", "repetitive"}},
		{"alphabet", "bcdefghijklmn", nil, []string{"repetitive"}},
		{"keyboard reversed", "lkjhgfdsapoiu", nil, []string{"repetitive"}},
		{"email local part", "chantaiman-rocks-99", []string{"chantaiman@acme.com.hk"}, []string{"personal-info"}},
		{"company", "acmehk-is-great", []string{"chan@acmehk.com"}, []string{"personal-info"}},
		{"a short email local part bans nothing by itself", "three-harbour-rides", []string{"hr@acme.com.hk"}, nil},
		{"chinese name", "我係陳大文嘅新登入密碼啦", []string{"陳大文"}, []string{"personal-info"}},
		{"service name", "my-lantau-login!", nil, []string{"personal-info"}},
		{"invalid UTF-8", "abc\xffdefghijklm", nil, []string{"invalid-text"}},
		{"short and common", "password", nil, []string{"too-short", "common"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := credential.CheckPassword(tt.password, tt.personal...)
			if tt.codes == nil {
				assert.NoError(t, err)
				return
			}
			var pe *problem.Error
			require.True(t, errors.As(err, &pe), "got %v", err)
			assert.Equal(t, problem.Invalid, problem.KindOf(err))
			assert.Equal(t, problem.Code("password-policy"), problem.CodeOf(err))
			var codes []string
			for _, f := range pe.Fields {
				codes = append(codes, f.Code)
				assert.Equal(t, "password", f.Field)
				assert.NotEmpty(t, f.Message.T(i18n.EN))
				assert.NotEqual(t, f.Message.T(i18n.EN), f.Message.T(i18n.ZHHK), "zh-HK text for %s", f.Code)
			}
			assert.Equal(t, tt.codes, codes)
		})
	}
}

func TestCheckPassword_ExplainsInBothLanguages(t *testing.T) {
	var pe *problem.Error
	require.True(t, errors.As(credential.CheckPassword("short"), &pe))
	require.Len(t, pe.Fields, 1)
	assert.Equal(t, "must be at least 12 characters", pe.Fields[0].Message.T(i18n.EN))
	assert.Equal(t, "最少須有 12 個字元", pe.Fields[0].Message.T(i18n.ZHHK))
	assert.Equal(t, "請選用更安全的密碼。", pe.Detail.T(i18n.ZHHK))
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := credential.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}

func BenchmarkVerify(b *testing.B) {
	enc, err := credential.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, _ := credential.Verify("correct horse battery staple", enc); !ok {
			b.Fatal("no match")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}
