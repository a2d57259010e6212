package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzCompileAndMatch checks that no pattern or event makes the matcher
// panic, that Compile only fails with a *PatternError, that Match refuses
// exactly the events encoding/json refuses, and that Match and MatchValue
// agree.
func FuzzCompileAndMatch(f *testing.F) {
	seeds := []struct{ pattern, event string }{
		{`{"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}`, ec2StateChange},
		{`{"detail": {"responseElements": [null], "eventVersion": [""]}}`, autoScalingLaunch},
		{`{"detail": {"risk-score": [80], "trigger": {"risk": [8.0]}}}`, macieAlert},
		{`{"time": [{"prefix": "2017-10-02"}], "detail": {"state": [{"anything-but": "initializing"}], "c-count": [{"numeric": [">", 0, "<=", 5]}], "x-limit": [{"anything-but": [100, 200, 300]}], "source-ip": [{"cidr": "10.0.0.0/8"}]}}`, rulerEvent},
		{`{"detail": {"c-count": [{"exists": false}]}}`, `{"detail": {"c-count": {"c1": 100}}}`},
		{`{"employees": {"firstName": ["Anna"], "lastName": [{"exists": false}]}}`, `{"employees": [{"firstName": "Anna"}, {"firstName": "Bob", "lastName": "Jones"}]}`},
		{`{"$or": [{"a": [{"wildcard": "*x*"}]}, {"b": [{"equals-ignore-case": "straße"}]}]}`, `{"a": ["yxz"], "b": "STRASSE"}`},
		{`{"s": [{"suffix": {"equals-ignore-case": ".PNG"}}, {"anything-but": {"wildcard": ["*/lib/*"]}}]}`, `{"s": [".png", "/usr/lib/x", 5, null, true]}`},
		{`{"ip": ["2001:db8::1", {"cidr": "10.0.0.0/24"}]}`, `{"ip": ["2001:DB8::1", "10.0.0.9"]}`},
		{`{"a.b": ["x"], "a": {"c": [1]}}`, `{"a": {"b": "x", "c": 1.0}, "a.b": "y"}`},
		{`{"s": ["x"]}`, `{"s": "y", "s": "x"}`},
		{`{}`, `[1, "a", {"b": null}]`},
		{`{"s": [{"numeric": ["=", 1e308]}]}`, `{"s": 1e400}`},
		{`{"s": ["\u00e9"]}`, "{\"s\": \"\\u00e9\", \"t\": \"\xff\"}"},
	}
	for _, s := range seeds {
		f.Add([]byte(s.pattern), []byte(s.event))
	}
	f.Fuzz(func(t *testing.T, pattern, event []byte) {
		p, err := Compile(pattern)
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("Compile error is a %T, not a *PatternError: %v", err, err)
			}
			return
		}
		got, err := p.Match(event)
		if valid := json.Valid(event); valid != (err == nil) {
			t.Fatalf("json.Valid = %v but Match error = %v", valid, err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Match error does not wrap ErrInvalidEvent: %v", err)
			}
			return
		}
		dec := json.NewDecoder(bytes.NewReader(event))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("decoding a valid event: %v", err)
		}
		if want := p.MatchValue(v); got != want {
			t.Fatalf("Match = %v, MatchValue = %v\npattern: %s\nevent: %s", got, want, pattern, event)
		}
	})
}
