package eventpattern

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompile_RefusesInvalidPatterns(t *testing.T) {
	cases := []struct {
		name    string
		pattern string
		want    string // substring of the error message
	}{
		// The pattern as a whole.
		{"not JSON", `{"source": [`, "pattern is not valid JSON"},
		{"not an object", `["aws.ec2"]`, "pattern must be a JSON object"},
		{"data after the object", `{"source": ["a"]} {}`, "pattern has data after the JSON object"},

		// Structure.
		{"leaf value not in an array", `{"source": "aws.ec2"}`, `source: must be an object or an array of match values`},
		{"nested leaf value not in an array", `{"detail": {"state": "running"}}`, `detail.state: must be an object or an array`},
		{"number leaf not in an array", `{"detail": {"n": 5}}`, `detail.n: must be an object or an array`},
		{"empty array", `{"detail": {"state": []}}`, `detail.state: Empty arrays are not allowed`},
		{"empty nested object", `{"detail": {}}`, `detail: Empty objects are not allowed`},
		{"array inside a match list", `{"tags": [["a"]]}`, `tags: match values must be strings, numbers, true, false, null or operator objects`},

		// Operators.
		{"unknown operator", `{"detail": {"state": [{"regex": "^run"}]}}`, `detail.state: unknown operator "regex"`},
		{"operator object with no key", `{"state": [{}]}`, `state: Only one key allowed in match expression, found 0`},
		{"operator object with two keys", `{"state": [{"prefix": "a", "suffix": "b"}]}`, `state: Only one key allowed in match expression, found 2`},
		{"prefix of a number", `{"time": [{"prefix": 2017}]}`, `time: prefix must be a string`},
		{"suffix of a list", `{"f": [{"suffix": [".png"]}]}`, `f: suffix must be a string`},
		{"prefix with an unknown nested operator", `{"s": [{"prefix": {"wildcard": "a*"}}]}`, `s: unsupported prefix operator "wildcard"`},
		{"prefix ignoring case of a number", `{"s": [{"prefix": {"equals-ignore-case": 5}}]}`, `s: equals-ignore-case must be a string`},
		{"equals-ignore-case of a list", `{"s": [{"equals-ignore-case": ["a"]}]}`, `s: equals-ignore-case must be a string`},
		{"exists as a string", `{"s": [{"exists": "false"}]}`, `s: exists match pattern must be either true or false`},
		{"exactly of a number", `{"s": [{"exactly": 1}]}`, `s: exactly must be a string`},

		// numeric.
		{"numeric with an odd list", `{"detail": {"amount": [{"numeric": [">", 0, "<="]}]}}`, `detail.amount: numeric needs an even list of operator/value pairs`},
		{"numeric with an empty list", `{"n": [{"numeric": []}]}`, `n: numeric needs an even list of operator/value pairs`},
		{"numeric not a list", `{"n": [{"numeric": 5}]}`, `n: numeric must be an array of operator/value pairs`},
		{"numeric with three pairs", `{"n": [{"numeric": [">", 0, "<", 9, "=", 5]}]}`, `n: numeric allows at most two operator/value pairs`},
		{"numeric with an unknown operator", `{"n": [{"numeric": ["==", 5]}]}`, `n: unknown numeric operator "=="`},
		{"numeric with an operator that is not a string", `{"n": [{"numeric": [5, ">"]}]}`, `n: numeric operator must be a string, got a number`},
		{"numeric with a string value", `{"n": [{"numeric": [">", "5"]}]}`, `n: numeric operator ">" needs a number, got a string`},
		{"numeric with a boolean value", `{"n": [{"numeric": ["=", true]}]}`, `n: numeric operator "=" needs a number, got a boolean`},
		{"numeric range upside down", `{"n": [{"numeric": [">", 10, "<", 1]}]}`, `n: numeric range lower bound must be less than its upper bound`},
		{"numeric range with equal bounds", `{"n": [{"numeric": [">=", 1, "<=", 1]}]}`, `n: numeric range lower bound must be less than its upper bound`},
		{"numeric range in the wrong order", `{"n": [{"numeric": ["<", 10, ">", 1]}]}`, `n: a numeric range is a lower bound (> or >=) followed by an upper bound (< or <=)`},
		{"numeric range of two lower bounds", `{"n": [{"numeric": [">", 1, ">=", 2]}]}`, `n: a numeric range is a lower bound`},
		{"numeric equals with a range", `{"n": [{"numeric": ["=", 1, "<", 2]}]}`, `n: numeric "=" cannot be combined with another operator`},
		{"numeric value out of range", `{"n": [{"numeric": ["<", 1e400]}]}`, `n: numeric value 1e400 is out of range`},

		// cidr.
		{"cidr without a mask", `{"ip": [{"cidr": "10.0.0.0"}]}`, `ip: cidr "10.0.0.0": Malformed CIDR, one '/' required`},
		{"cidr with two slashes", `{"ip": [{"cidr": "10.0.0.0/8/8"}]}`, `Malformed CIDR, one '/' required`},
		{"cidr with a word for a mask", `{"ip": [{"cidr": "10.0.0.0/eight"}]}`, `Malformed CIDR, mask bits must be an integer`},
		{"cidr with a negative mask", `{"ip": [{"cidr": "10.0.0.0/-1"}]}`, `Malformed CIDR, mask bits must not be negative`},
		{"cidr with a host name", `{"ip": [{"cidr": "example.com/8"}]}`, `Nonstandard IP address: example.com`},
		{"cidr with a bad IPv4 address", `{"ip": [{"cidr": "10.0.0.256/8"}]}`, `Nonstandard IP address: 10.0.0.256`},
		{"cidr with an IPv6 zone", `{"ip": [{"cidr": "fe80::1%eth0/64"}]}`, `Nonstandard IP address: fe80::1%eth0`},
		{"cidr with an IPv4 mask of 32", `{"ip": [{"cidr": "10.0.0.1/32"}]}`, `IPv4 mask bits must be < 32`},
		{"cidr with an IPv6 mask of 128", `{"ip": [{"cidr": "2001:db8::1/128"}]}`, `IPv6 mask bits must be < 128`},
		{"cidr of a number", `{"ip": [{"cidr": 10}]}`, `ip: cidr must be a string`},

		// wildcard.
		{"wildcard with consecutive stars", `{"f": [{"wildcard": "abc**def"}]}`, `f: wildcard "abc**def": Consecutive wildcard characters at pos 4`},
		{"wildcard with an unknown escape", `{"f": [{"wildcard": "a*c\\def"}]}`, `Invalid escape character at pos 4`},
		{"wildcard ending in a backslash", `{"f": [{"wildcard": "a*\\"}]}`, `Invalid escape character at pos 3`},
		{"wildcard of a number", `{"f": [{"wildcard": 5}]}`, `f: wildcard must be a string`},

		// anything-but.
		{"anything-but of a boolean", `{"s": [{"anything-but": true}]}`, `s: anything-but must be a string, a number, a list of only strings or only numbers, or an object`},
		{"anything-but of null", `{"s": [{"anything-but": null}]}`, `s: anything-but must be a string`},
		{"anything-but of a mixed list", `{"s": [{"anything-but": ["a", 1]}]}`, `s: anything-but list must contain only strings or only numbers, not both`},
		{"anything-but of a list with null", `{"s": [{"anything-but": ["a", null]}]}`, `s: anything-but list must contain only strings or only numbers, got null`},
		{"anything-but of an empty list", `{"s": [{"anything-but": []}]}`, `s: anything-but list must not be empty`},
		{"anything-but of an unsupported operator", `{"s": [{"anything-but": {"numeric": [">", 1]}}]}`, `s: unsupported anything-but operator "numeric"`},
		{"anything-but of an empty prefix", `{"s": [{"anything-but": {"prefix": ""}}]}`, `s: anything-but prefix must not be empty`},
		{"anything-but of an empty suffix in a list", `{"s": [{"anything-but": {"suffix": [".png", ""]}}]}`, `s: anything-but suffix must not be empty`},
		{"anything-but prefix of a number", `{"s": [{"anything-but": {"prefix": 27}}]}`, `s: anything-but prefix must be a string or a list of strings, got a number`},
		{"anything-but ignoring case of numbers", `{"s": [{"anything-but": {"equals-ignore-case": [1, 2]}}]}`, `s: anything-but equals-ignore-case must be a string or a list of strings, got a number`},
		{"anything-but wildcard with consecutive stars", `{"s": [{"anything-but": {"wildcard": ["ok", "foo**bar"]}}]}`, `s: anything-but wildcard "foo**bar": Consecutive wildcard characters at pos 4`},
		{"anything-but object with two keys", `{"s": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}`, `s: Only one key allowed in match expression, found 2`},
		{"anything-but number out of range", `{"s": [{"anything-but": [1e999]}]}`, `s: anything-but number 1e999 is out of range`},

		// $or.
		{"$or with one alternative", `{"$or": [{"source": ["a"]}]}`, `$or: $or needs at least 2 alternatives`},
		{"$or with no alternative", `{"detail": {"$or": []}}`, `detail.$or: $or needs at least 2 alternatives`},
		{"$or that is an object", `{"$or": {"source": ["a"]}}`, `$or: $or must be an array of at least 2 objects`},
		{"$or of strings", `{"$or": ["a", "b"]}`, `$or[0]: $or alternatives must be objects`},
		{"$or with an empty alternative", `{"$or": [{"a": ["1"]}, {}]}`, `$or[1]: Empty objects are not allowed`},
		{"operator name as a field inside $or", `{"$or": [{"numeric": [123]}, {"prefix": ["abc"]}]}`, `$or[0].numeric: "numeric" is an operator name and cannot be used as a field name inside $or`},
		{"error inside an $or alternative names it", `{"detail": {"$or": [{"a": ["1"]}, {"b": {"c": "x"}}]}}`, `detail.$or[1].b.c: must be an object or an array`},
		{"too many $or combinations", manyOrs(11), `pattern is too complex`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile([]byte(tc.pattern))
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.want)
			assert.ErrorIs(t, err, ErrInvalidPattern)
			var pe *PatternError
			require.True(t, errors.As(err, &pe))
			assert.True(t, strings.HasPrefix(err.Error(), "event pattern is not valid: "), err.Error())
		})
	}
}

func TestCompile_ErrorNamesTheFieldPath(t *testing.T) {
	_, err := Compile([]byte(`{"detail": {"amount": [{"numeric": [">", 0, "<="]}]}}`))
	var pe *PatternError
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "detail.amount", pe.Path)
	assert.Equal(t, "numeric needs an even list of operator/value pairs", pe.Reason)
	assert.Equal(t, "event pattern is not valid: detail.amount: numeric needs an even list of operator/value pairs", err.Error())
}

func TestCompile_AcceptsEveryDocumentedForm(t *testing.T) {
	for _, pattern := range []string{
		`{}`,
		`{"detail": {"state": [{"anything-but": {"prefix": ["abc", "123"]}}]}}`,
		`{"detail": {"state": [{"anything-but": {"suffix": ["abc", "123"]}}]}}`,
		`{"a": [{"anything-but": {"equals-ignore-case": ""}}]}`,
		`{"a": [{"anything-but": {"wildcard": ""}}]}`,
		`{"a": [{"anything-but": {"wildcard": ["foo*bar", "*foobar*"]}}]}`,
		`{"a": [{"equals-ignore-case": ""}]}`,
		`{"a": [{"wildcard": "a\\\\*\\*"}]}`,
		`{"x": [{"numeric": ["=", 1E-320]}]}`,
		`{"x": [{"numeric": [">=", -4e-6, "<", 55555]}]}`,
		`{"a": [{"exists": true}, {"exists": false}, "x", 1, true, false, null]}`,
		`{"ip": [{"cidr": "10.0.0.0/0"}, {"cidr": "::/0"}, {"cidr": "2001:db8::/127"}]}`,
		`{"prefix": ["a field may be called prefix outside $or"]}`,
		`{"$or": [{"a": ["1"]}, {"b": ["2"]}], "detail": {"$or": [{"c": ["3"]}, {"d": {"$or": [{"e": ["4"]}, {"f": ["5"]}]}}]}}`,
		manyOrs(10),
	} {
		_, err := Compile([]byte(pattern))
		assert.NoError(t, err, pattern)
	}
}

// manyOrs builds a pattern whose n sibling $or clauses of two alternatives
// each expand to 2^n branches.
func manyOrs(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"f` + string(rune('a'+i)) + `": {"$or": [{"x": ["1"]}, {"y": ["2"]}]}`)
	}
	b.WriteString("}")
	return b.String()
}
