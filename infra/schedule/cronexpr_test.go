package schedule

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/cronexpr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toCronexpr rewrites an AWS cron expression for hashicorp/cronexpr, whose
// six-field form is the same "min hour dom month dow year" but numbers
// weekdays 0-6 from Sunday (AWS: 1-7) and has no plain L in day-of-week.
// It covers the subset used by TestNext_AgreesWithCronexpr: no wrapping
// ranges and no years after 2099, which cronexpr does not read.
func toCronexpr(t *testing.T, aws string) string {
	t.Helper()
	f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(aws, "cron("), ")"))
	require.Len(t, f, 6)
	shift := func(v string) string {
		if n, err := strconv.Atoi(v); err == nil {
			return strconv.Itoa(n - 1)
		}
		return v // a name
	}
	var out []string
	for _, e := range strings.Split(f[4], ",") {
		switch {
		case e == "?" || e == "*":
		case e == "L":
			e = "6"
		case strings.Contains(e, "#"):
			d, k, _ := strings.Cut(e, "#")
			e = shift(d) + "#" + k
		case strings.HasSuffix(e, "L"):
			e = shift(strings.TrimSuffix(e, "L")) + "L"
		default:
			a, z, isRange := strings.Cut(e, "-")
			e = shift(a)
			if isRange {
				e += "-" + shift(z)
			}
		}
		out = append(out, e)
	}
	f[4] = strings.Join(out, ",")
	return strings.Join(f, " ")
}

// Where both libraries read an expression the same way (no DST, years up to
// 2099), our evaluator must agree with cronexpr firing for firing.
func TestNext_AgreesWithCronexpr(t *testing.T) {
	exprs := []string{
		"cron(0 9 ? * 2-6 *)",
		"cron(0 18 L * ? *)",
		"cron(0 10 ? * 6L *)",
		"cron(0 10 ? * 1L *)",
		"cron(0 10 ? * 7L *)",
		"cron(0 10 ? * 3#2 *)",
		"cron(0 10 ? * 1#5 *)",
		"cron(0 10 ? * 7#1 *)",
		"cron(0 9 15W * ? *)",
		"cron(0 9 1W * ? *)",
		"cron(0 9 31W * ? *)",
		"cron(0 9 LW * ? *)",
		"cron(0 8 ? * MON-FRI *)",
		"cron(0 8 ? * 1,7 *)",
		"cron(0 8 ? * L *)",
		"cron(0 0 1 JAN,JUL ? *)",
		"cron(0/15 * * * ? *)",
		"cron(5/20 8-18/3 * * ? *)",
		"cron(30 14 10,20 * ? 2026-2030)",
		"cron(0 0 29 2 ? *)",
		"cron(0 12 1-7 * ? *)",
		"cron(0 0 ? 2 1#5 *)",
		"cron(59 23 31 12 ? 2099)",
	}
	zones := []string{"UTC", "Asia/Hong_Kong"} // Hong Kong has had no DST since 1979
	rng := rand.New(rand.NewPCG(1, 2))
	for _, expr := range exprs {
		theirs, err := cronexpr.Parse(toCronexpr(t, expr))
		require.NoError(t, err, expr)
		for _, zone := range zones {
			ours := mustParse(t, expr, zone)
			loc, err := time.LoadLocation(zone)
			require.NoError(t, err)
			for range 5 {
				at := time.Date(2020, 1, 1, 0, 0, 0, 0, loc).Add(time.Duration(rng.Int64N(int64(60 * 365 * 24 * time.Hour))))
				a, b := at, at
				for i := range 40 {
					a, b = ours.Next(a), theirs.Next(b)
					if b.IsZero() && a.Year() > 2099 {
						break // cronexpr stops at 2099; AWS goes on to 2199
					}
					if !assert.True(t, a.Equal(b), "%s in %s, firing %d after %v: ours %v, cronexpr %v", expr, zone, i, at, a, b) || a.IsZero() {
						break
					}
				}
			}
		}
	}
}
