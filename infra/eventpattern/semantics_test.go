package eventpattern

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatch_NumbersCompareByValue(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"5 matches 5.0", `{"n": [5]}`, `{"n": 5.0}`, true},
		{"5.0 matches 5", `{"n": [5.0]}`, `{"n": 5}`, true},
		{"5 matches 5e0", `{"n": [5]}`, `{"n": 5e0}`, true},
		{"300 matches 3.0e2", `{"n": [300]}`, `{"n": 3.0e2}`, true},
		{"-0 matches 0", `{"n": [0]}`, `{"n": -0}`, true},
		{"5 does not match 5.000001", `{"n": [5]}`, `{"n": 5.000001}`, false},
		{"number does not match the string of it", `{"n": [5]}`, `{"n": "5"}`, false},
		{"string does not match the number of it", `{"n": ["5"]}`, `{"n": 5}`, false},
		{"a number too large for float64 matches its own text", `{"n": [1e400]}`, `{"n": 1e400}`, true},
		{"a number too large for float64 matches only its own text", `{"n": [1e400]}`, `{"n": 1E400}`, false},
		{"twelve-digit account numbers", `{"account": [123456789012]}`, `{"account": 123456789012}`, true},
		{"numeric = matches any spelling", `{"n": [{"numeric": ["=", 3.018e2]}]}`, `{"n": 301.8}`, true},
		{"numeric > is open", `{"n": [{"numeric": [">", 0]}]}`, `{"n": 0}`, false},
		{"numeric >= is closed", `{"n": [{"numeric": [">=", 0]}]}`, `{"n": 0}`, true},
		{"numeric < is open", `{"n": [{"numeric": ["<", 10]}]}`, `{"n": 10}`, false},
		{"numeric <= is closed", `{"n": [{"numeric": ["<=", 10]}]}`, `{"n": 10}`, true},
		{"numeric on negative numbers", `{"n": [{"numeric": [">=", -5, "<", -1]}]}`, `{"n": -1.5}`, true},
		{"numeric on a boolean", `{"n": [{"numeric": [">", 0]}]}`, `{"n": true}`, false},
		{"numeric on null", `{"n": [{"numeric": ["<", 1]}]}`, `{"n": null}`, false},
	})
}

func TestMatch_BooleansAndNull(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"true matches true", `{"b": [true]}`, `{"b": true}`, true},
		{"true does not match false", `{"b": [true]}`, `{"b": false}`, false},
		{"true does not match the string true", `{"b": [true]}`, `{"b": "true"}`, false},
		{"false matches false", `{"b": [false]}`, `{"b": false}`, true},
		{"null matches null", `{"b": [null]}`, `{"b": null}`, true},
		{"null does not match a missing field", `{"b": [null]}`, `{"a": 1}`, false},
		{"null does not match the string null", `{"b": [null]}`, `{"b": "null"}`, false},
		{"exists true matches null", `{"b": [{"exists": true}]}`, `{"b": null}`, true},
		{"exists false does not match null", `{"b": [{"exists": false}]}`, `{"b": null}`, false},
		{"anything-but a string matches null", `{"b": [{"anything-but": "x"}]}`, `{"b": null}`, true},
	})
}

func TestMatch_Arrays(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"any element of an event array", `{"tags": ["b"]}`, `{"tags": ["a", "b", "c"]}`, true},
		{"no element of an event array", `{"tags": ["z"]}`, `{"tags": ["a", "b"]}`, false},
		{"nested event arrays are flattened", `{"tags": [3]}`, `{"tags": [[1, 2], [3]]}`, true},
		{"numeric on any element", `{"n": [{"numeric": [">", 10]}]}`, `{"n": [1, 5, 11]}`, true},
		{"prefix on any element", `{"r": [{"prefix": "arn:aws:s3"}]}`, `{"r": ["arn:aws:ec2:x", "arn:aws:s3:::b"]}`, true},
		{"objects in an array are searched", `{"items": {"sku": ["A-1"]}}`, `{"items": [{"sku": "B-2"}, {"sku": "A-1"}]}`, true},
		{"a value beside objects in an array is a leaf", `{"items": ["x"]}`, `{"items": [{"sku": "x"}, "x"]}`, true},
		{"an object in an array is not a leaf", `{"items": [{"exists": true}]}`, `{"items": [{"sku": "x"}]}`, false},
		{"empty event array has no leaf", `{"items": [{"exists": true}]}`, `{"items": []}`, false},
		{"empty event array counts as absent", `{"items": [{"exists": false}]}`, `{"items": []}`, true},
		{"anything-but matches if one element is not excluded", `{"tags": [{"anything-but": "a"}]}`, `{"tags": ["a", "b"]}`, true},
		{"anything-but fails if every element is excluded", `{"tags": [{"anything-but": ["a", "b"]}]}`, `{"tags": ["a", "b", "a"]}`, false},
		{"anything-but on an empty array", `{"tags": [{"anything-but": "a"}]}`, `{"tags": []}`, false},
		{"anything-but never matches a missing field", `{"tags": [{"anything-but": "a"}]}`, `{"other": "b"}`, false},
		{"anything-but prefix never matches a missing field", `{"s": [{"anything-but": {"prefix": "a"}}]}`, `{}`, false},
		{"anything-but never matches an object", `{"s": [{"anything-but": "a"}]}`, `{"s": {"t": "b"}}`, false},
		{"anything-but strings let numbers through", `{"s": [{"anything-but": ["1", "2"]}]}`, `{"s": 1}`, true},
		{"anything-but numbers let strings through", `{"s": [{"anything-but": [1, 2]}]}`, `{"s": "1"}`, true},
		{"anything-but numbers exclude any spelling", `{"s": [{"anything-but": [100]}]}`, `{"s": 1.0e2}`, false},
		{"anything-but prefix lets numbers through", `{"s": [{"anything-but": {"prefix": "1"}}]}`, `{"s": 12}`, true},
	})
}

func TestMatch_ArrayConsistencyAcrossNesting(t *testing.T) {
	orders := `{"detail": {"lines": [
		{"sku": "A", "qty": 1, "tags": ["gift"]},
		{"sku": "B", "qty": 5, "tags": ["bulk", "fragile"]}
	]}}`
	runMatchCases(t, []matchCase{
		{"fields of one line", `{"detail": {"lines": {"sku": ["B"], "qty": [{"numeric": [">", 2]}]}}}`, orders, true},
		{"fields of two lines", `{"detail": {"lines": {"sku": ["A"], "qty": [{"numeric": [">", 2]}]}}}`, orders, false},
		{"nested array under the same line", `{"detail": {"lines": {"sku": ["B"], "tags": ["fragile"]}}}`, orders, true},
		{"nested array under another line", `{"detail": {"lines": {"sku": ["A"], "tags": ["fragile"]}}}`, orders, false},
		{"or alternatives stay within a line", `{"detail": {"lines": {"sku": ["A"], "$or": [{"qty": [5]}, {"tags": ["bulk"]}]}}}`, orders, false},
		{"or alternative within the line", `{"detail": {"lines": {"sku": ["A"], "$or": [{"qty": [5]}, {"tags": ["gift"]}]}}}`, orders, true},
		{"fields outside the array are free", `{"detail": {"lines": {"sku": ["A"]}}, "source": ["shop"]}`, `{"source": "shop", "detail": {"lines": [{"sku": "A"}]}}`, true},
	})
}

// event-ruler judges {"exists": false} against the array elements the fields
// sorted before it were found in; with none, against the whole event.
func TestMatch_ExistsFalseInsideArrays(t *testing.T) {
	staff := `{"employees": [{"firstName": "Anna"}, {"firstName": "Bob", "lastName": "Jones"}]}`
	runMatchCases(t, []matchCase{
		{"absent in the element of an earlier field", `{"employees": {"firstName": ["Anna"], "lastName": [{"exists": false}]}}`, staff, true},
		{"present in the element of an earlier field", `{"employees": {"firstName": ["Bob"], "lastName": [{"exists": false}]}}`, staff, false},
		{"present in some element, no earlier field", `{"employees": {"lastName": [{"exists": false}]}}`, staff, false},
		{"absent in every element", `{"employees": {"middleName": [{"exists": false}]}}`, staff, true},
	})
}

func TestMatch_NestedDetail(t *testing.T) {
	event := `{"source": "lantau.drive", "detail": {"file": {"owner": {"tenant": "t-42", "roles": ["admin"]}, "size": 2048, "name": "Q3 report.PDF"}}}`
	runMatchCases(t, []matchCase{
		{"deep leaf", `{"detail": {"file": {"owner": {"tenant": ["t-42"]}}}}`, event, true},
		{"deep leaves together", `{"source": ["lantau.drive"], "detail": {"file": {"owner": {"roles": ["admin"]}, "size": [{"numeric": [">=", 1024]}], "name": [{"suffix": {"equals-ignore-case": ".pdf"}}]}}}`, event, true},
		{"object where a leaf is expected", `{"detail": {"file": {"owner": ["t-42"]}}}`, event, false},
		{"leaf where an object is expected", `{"detail": {"file": {"size": {"bytes": [2048]}}}}`, event, false},
		{"missing intermediate object", `{"detail": {"folder": {"name": ["x"]}}}`, event, false},
		{"exists false under a missing intermediate object", `{"detail": {"folder": {"name": [{"exists": false}]}}}`, event, true},
		{"dotted field name reaches nested fields", `{"detail.file.owner.tenant": ["t-42"]}`, event, true},
		{"dotted event key reaches nested pattern", `{"detail": {"file": {"owner": {"tenant": ["t-7"]}}}}`, `{"detail.file": {"owner.tenant": "t-7"}}`, true},
	})
}

func TestMatch_OrAtNestedLevels(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"or inside detail, first", `{"detail": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}}`, `{"detail": {"a": "1"}}`, true},
		{"or inside detail, second", `{"detail": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}}`, `{"detail": {"b": "2"}}`, true},
		{"or inside detail, none", `{"detail": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}}`, `{"detail": {"a": "2"}}`, false},
		{"or three levels down", `{"detail": {"x": {"y": {"$or": [{"p": [1]}, {"q": [2]}]}}}}`, `{"detail": {"x": {"y": {"q": 2}}}}`, true},
		{"or inside an or alternative", `{"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"c": ["3"]}], "d": ["4"]}]}`, `{"c": "3", "d": "4"}`, true},
		{"or inside an or alternative, sibling missing", `{"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"c": ["3"]}], "d": ["4"]}]}`, `{"c": "3"}`, false},
		{"alternatives combine with sibling fields", `{"source": ["s"], "detail": {"$or": [{"a": [1]}, {"b": [2]}], "c": [3]}}`, `{"source": "s", "detail": {"b": 2, "c": 3}}`, true},
		{"sibling field must hold in every alternative", `{"source": ["s"], "detail": {"$or": [{"a": [1]}, {"b": [2]}], "c": [3]}}`, `{"source": "s", "detail": {"b": 2, "c": 4}}`, false},
		{"or alternative with content filters", `{"$or": [{"n": [{"numeric": [">", 100]}]}, {"s": [{"prefix": "vip-"}]}]}`, `{"n": 5, "s": "vip-7"}`, true},
		{"field inside and outside an or must both hold", `{"state": ["a", "b"], "$or": [{"state": [{"anything-but": "a"}]}, {"x": ["y"]}]}`, `{"state": "b"}`, true},
		{"field inside and outside an or, one fails", `{"state": ["a", "b"], "$or": [{"state": [{"anything-but": "a"}]}, {"x": ["y"]}]}`, `{"state": "c"}`, false},
	})
}

func TestMatch_IgnoreCase(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"ascii", `{"s": [{"equals-ignore-case": "EventBridge"}]}`, `{"s": "eventbridge"}`, true},
		{"ascii, different length", `{"s": [{"equals-ignore-case": "EventBridge"}]}`, `{"s": "eventbridges"}`, false},
		{"Greek", `{"s": [{"equals-ignore-case": "ΟΔΥΣΣΕΥΣ"}]}`, `{"s": "οδυσσευσ"}`, true},
		{"Greek accents still count", `{"s": [{"equals-ignore-case": "ΟΔΥΣΣΕΥΣ"}]}`, `{"s": "Οδυσσεύς"}`, false},
		{"Cyrillic", `{"s": [{"equals-ignore-case": "привет"}]}`, `{"s": "ПРИВЕТ"}`, true},
		{"accented Latin", `{"s": [{"equals-ignore-case": "Ärger"}]}`, `{"s": "äRGER"}`, true},
		{"sharp s in the pattern matches SS", `{"s": [{"equals-ignore-case": "straße"}]}`, `{"s": "STRASSE"}`, true},
		{"sharp s in the pattern matches itself", `{"s": [{"equals-ignore-case": "straße"}]}`, `{"s": "Straße"}`, true},
		{"SS in the pattern does not match sharp s", `{"s": [{"equals-ignore-case": "STRASSE"}]}`, `{"s": "straße"}`, false},
		{"dotted capital I lower-cases to i and a combining dot", `{"s": [{"equals-ignore-case": "İstanbul"}]}`, "{\"s\": \"i\u0307stanbul\"}", true},
		{"dotted capital I matches itself", `{"s": [{"equals-ignore-case": "İstanbul"}]}`, `{"s": "İSTANBUL"}`, true},
		{"plain i does not match dotted capital I", `{"s": [{"equals-ignore-case": "istanbul"}]}`, `{"s": "İstanbul"}`, false},
		{"CJK has no case", `{"s": [{"equals-ignore-case": "合計"}]}`, `{"s": "合計"}`, true},
		{"characters beyond the BMP only match themselves", `{"s": [{"equals-ignore-case": "𐐀"}]}`, `{"s": "𐐨"}`, false},
		{"ignore case only matches strings", `{"s": [{"equals-ignore-case": "true"}]}`, `{"s": true}`, false},
		{"prefix ignoring case, Unicode", `{"s": [{"prefix": {"equals-ignore-case": "ÉCOLE"}}]}`, `{"s": "école normale"}`, true},
		{"prefix ignoring case, longer than the value", `{"s": [{"prefix": {"equals-ignore-case": "ÉCOLE NORMALE"}}]}`, `{"s": "école"}`, false},
		{"suffix ignoring case across a length change", `{"s": [{"suffix": {"equals-ignore-case": "straße"}}]}`, `{"s": "HAUPTSTRASSE"}`, true},
		{"suffix ignoring case, Unicode", `{"s": [{"suffix": {"equals-ignore-case": "ПРИВЕТ"}}]}`, `{"s": "всем привет"}`, true},
		{"anything-but ignoring case, list", `{"s": [{"anything-but": {"equals-ignore-case": ["Ärger", "Ruhe"]}}]}`, `{"s": "ÄRGER"}`, false},
	})
}

func TestMatch_IPAddresses(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"IPv4 in a /8", `{"ip": [{"cidr": "10.0.0.0/8"}]}`, `{"ip": "10.255.3.4"}`, true},
		{"IPv4 outside a /24", `{"ip": [{"cidr": "10.0.0.0/24"}]}`, `{"ip": "10.0.1.1"}`, false},
		{"host bits of the network are ignored", `{"ip": [{"cidr": "10.0.0.77/24"}]}`, `{"ip": "10.0.0.1"}`, true},
		{"IPv6 in a /32", `{"ip": [{"cidr": "2001:db8::/32"}]}`, `{"ip": "2001:db8:0:1::5"}`, true},
		{"IPv6 in upper case", `{"ip": [{"cidr": "2001:db8::/32"}]}`, `{"ip": "2001:DB8::1"}`, true},
		{"IPv6 outside a /32", `{"ip": [{"cidr": "2001:db8::/32"}]}`, `{"ip": "2001:db9::1"}`, false},
		{"IPv6 /127", `{"ip": [{"cidr": "2001:db8::/127"}]}`, `{"ip": "2001:db8::1"}`, true},
		{"IPv6 fully written", `{"ip": [{"cidr": "fe80::/10"}]}`, `{"ip": "fe80:0000:0000:0000:0202:b3ff:fe1e:8329"}`, true},
		{"IPv4 does not match an IPv6 network", `{"ip": [{"cidr": "::/0"}]}`, `{"ip": "10.0.0.1"}`, false},
		{"IPv4-mapped IPv6 counts as IPv4", `{"ip": [{"cidr": "10.0.0.0/24"}]}`, `{"ip": "::ffff:a00:5"}`, true},
		{"a non-IP string", `{"ip": [{"cidr": "10.0.0.0/8"}]}`, `{"ip": "10.0.0.1.example.com"}`, false},
		{"an IP inside other text", `{"ip": [{"cidr": "10.0.0.0/8"}]}`, `{"ip": " 10.0.0.1"}`, false},
		{"a number", `{"ip": [{"cidr": "0.0.0.0/0"}]}`, `{"ip": 10}`, false},
		{"an IP literal matches other spellings", `{"ip": ["2001:db8::1"]}`, `{"ip": "2001:0DB8:0:0:0:0:0:1"}`, true},
		{"an IP literal still matches itself", `{"ip": ["10.0.0.1"]}`, `{"ip": "10.0.0.1"}`, true},
		{"an IP literal does not match another address", `{"ip": ["10.0.0.1"]}`, `{"ip": "10.0.0.2"}`, false},
	})
}

func TestMatch_Wildcards(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"star alone matches the empty string", `{"s": [{"wildcard": "*"}]}`, `{"s": ""}`, true},
		{"star in the middle matches nothing", `{"s": [{"wildcard": "a*b"}]}`, `{"s": "ab"}`, true},
		{"several stars", `{"s": [{"wildcard": "*/lib/*.jar"}]}`, `{"s": "/opt/app/lib/x.jar"}`, true},
		{"several stars, wrong end", `{"s": [{"wildcard": "*/lib/*.jar"}]}`, `{"s": "/opt/app/lib/x.jar.bak"}`, false},
		{"segments in order", `{"s": [{"wildcard": "a*b*c"}]}`, `{"s": "xacbc"}`, false},
		{"segments may repeat", `{"s": [{"wildcard": "a*a*a"}]}`, `{"s": "aaa"}`, true},
		{"overlapping ends", `{"s": [{"wildcard": "ab*ba"}]}`, `{"s": "aba"}`, false},
		{"escaped star is literal", `{"s": [{"wildcard": "a\\*b"}]}`, `{"s": "a*b"}`, true},
		{"escaped star does not match other text", `{"s": [{"wildcard": "a\\*b"}]}`, `{"s": "axb"}`, false},
		{"escaped backslash", `{"s": [{"wildcard": "a\\\\*"}]}`, `{"s": "a\\bc"}`, true},
		{"escaped star then a wildcard", `{"s": [{"wildcard": "\\**"}]}`, `{"s": "*rest"}`, true},
		{"wildcard does not match numbers", `{"s": [{"wildcard": "*"}]}`, `{"s": 5}`, false},
		{"wildcard over Unicode", `{"s": [{"wildcard": "合*計"}]}`, `{"s": "合同總計"}`, true},
	})
}

// event-ruler matches prefixes and suffixes against a string's JSON form,
// quotes included; a prefix ending in a quote thus covers a whole value.
func TestMatch_PrefixAndSuffixQuirksOfEventRuler(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"prefix ending in a quote matches the whole value", `{"s": [{"prefix": "abc\""}]}`, `{"s": "abc"}`, true},
		{"suffix starting with a quote matches the whole value", `{"s": [{"suffix": "\"abc"}]}`, `{"s": "abc"}`, true},
		{"empty prefix matches every string", `{"s": [{"prefix": ""}]}`, `{"s": "x"}`, true},
		{"empty prefix does not match numbers", `{"s": [{"prefix": ""}]}`, `{"s": 1}`, false},
		{"empty suffix matches the empty string", `{"s": [{"suffix": ""}]}`, `{"s": ""}`, true},
		{"prefix longer than the value", `{"s": [{"prefix": "abcd"}]}`, `{"s": "abc"}`, false},
		{"prefix ignoring case ending in a quote", `{"s": [{"prefix": {"equals-ignore-case": "ABC\""}}]}`, `{"s": "abc"}`, true},
	})
}

func TestMatch_ExactlyMatchesOnlyTheLiteralString(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"same string", `{"ip": [{"exactly": "10.0.0.1"}]}`, `{"ip": "10.0.0.1"}`, true},
		{"another spelling of the address", `{"ip": [{"exactly": "2001:db8::1"}]}`, `{"ip": "2001:DB8::1"}`, false},
	})
}

func TestMatch_EmptyPatternMatchesEverything(t *testing.T) {
	p := MustCompile(`{}`)
	for _, event := range []string{`{}`, ec2StateChange, `[1, 2]`, `"x"`, `null`} {
		ok, err := p.Match([]byte(event))
		require.NoError(t, err)
		assert.True(t, ok, event)
	}
	assert.True(t, p.MatchValue(nil))
}

func TestMatch_EventThatIsNotAnObjectHasNoFields(t *testing.T) {
	for _, event := range []string{`[{"a": 1}]`, `"a"`, `1`, `null`} {
		assert.False(t, matchBoth(t, `{"a": [1]}`, event), event)
		assert.True(t, matchBoth(t, `{"a": [{"exists": false}]}`, event), event)
	}
}

func TestMatch_RefusesEventsThatAreNotJSON(t *testing.T) {
	p := MustCompile(`{"source": ["aws.ec2"]}`)
	for _, event := range []string{``, ` `, `{`, `{"source": "aws.ec2"`, `{"source": aws.ec2}`, `{"source": "aws.ec2"} {}`, `{"a": 01}`, "{\"a\": \"\x01\"}", `{"a": "\x"}`, `[1,]`} {
		ok, err := p.Match([]byte(event))
		require.Error(t, err, event)
		assert.ErrorIs(t, err, ErrInvalidEvent)
		assert.False(t, ok)
	}
}

func TestMatch_RepeatedEventKeyKeepsTheLastValue(t *testing.T) {
	pattern := `{"detail": {"state": ["running"]}}`
	assert.False(t, matchBoth(t, pattern, `{"detail": {"state": "running", "state": "stopped"}}`))
	assert.True(t, matchBoth(t, pattern, `{"detail": {"state": "stopped", "state": "running"}}`))
	assert.True(t, matchBoth(t, pattern, `{"detail": {"state": "stopped"}, "detail": {"state": "running"}}`))
}

func TestMatch_EscapedStringsAreDecoded(t *testing.T) {
	assert.True(t, matchBoth(t, `{"s": ["a\"b"]}`, `{"s": "a\u0022b"}`))
	assert.True(t, matchBoth(t, `{"caf\u00e9": ["ok"]}`, `{"café": "ok"}`))
	assert.True(t, matchBoth(t, `{"s": ["é"]}`, `{"s": "\u00e9"}`))
	assert.True(t, matchBoth(t, `{"s": ["\ufffd"]}`, "{\"s\": \"\xff\"}"))
}

func TestMatchValue_AcceptsFloat64AndGoIntegers(t *testing.T) {
	p := MustCompile(`{"detail": {"n": [5], "r": [{"numeric": [">", 1.5]}], "tags": ["x"]}}`)

	var plain any
	require.NoError(t, json.Unmarshal([]byte(`{"detail": {"n": 5.0, "r": 2, "tags": ["y", "x"]}}`), &plain))
	assert.True(t, p.MatchValue(plain))

	assert.True(t, p.MatchValue(map[string]any{"detail": map[string]any{"n": 5, "r": int64(2), "tags": []any{"x"}}}))
	assert.False(t, p.MatchValue(map[string]any{"detail": map[string]any{"n": uint8(6), "r": float32(2), "tags": []any{"x"}}}))
	assert.False(t, p.MatchValue(map[string]any{"detail": map[string]any{"n": struct{}{}, "r": 2, "tags": []any{"x"}}}))
}

func TestPattern_IsSafeForConcurrentUse(t *testing.T) {
	p := MustCompile(`{"source": ["s"], "detail": {"n": [{"numeric": [">", 10]}], "tags": ["t"]}}`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				n := (g*500 + i) % 20
				event := fmt.Sprintf(`{"source": "s", "detail": {"n": %d, "tags": ["a", "t"]}}`, n)
				ok, err := p.Match([]byte(event))
				assert.NoError(t, err)
				assert.Equal(t, n > 10, ok, event)
				assert.Equal(t, n > 10, p.MatchValue(decodeEvent(t, event)), event)
			}
		})
	}
	wg.Wait()
}
