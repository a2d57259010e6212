package eventpattern

import (
	"encoding/json"
	"testing"
)

// benchPattern is a typical rule of ours: source and type, plus three
// content filters on the detail.
const benchPattern = `{
  "source": ["lantau.attendance"],
  "detail-type": ["ClockIn", "ClockOut"],
  "detail": {
    "tenant": [{"prefix": "t-"}],
    "minutes": [{"numeric": [">", 0, "<=", 720]}],
    "device": {"ip": [{"cidr": "10.20.0.0/16"}]}
  }
}`

const benchEvent = `{
  "version": "0",
  "id": "2b1c6f7e-5d3a-4c1e-9f2b-8a7d6e5c4b3a",
  "detail-type": "ClockIn",
  "source": "lantau.attendance",
  "account": "123456789012",
  "time": "2025-11-03T01:02:03Z",
  "region": "ap-east-1",
  "resources": ["arn:aws:dynamodb:ap-east-1:123456789012:table/lantau"],
  "detail": {
    "tenant": "t-0042",
    "user": "u-9f8e7d",
    "site": {"id": "s-hq", "name": "Quarry Bay HQ", "geo": {"lat": 22.2881, "lon": 114.2139}},
    "device": {"id": "d-77", "ip": "10.20.3.41", "os": "iOS 19.1", "mock": false},
    "minutes": 480,
    "breaks": [{"start": "12:30", "minutes": 45}, {"start": "15:30", "minutes": 15}],
    "roles": ["staff", "keyholder"],
    "note": "Early shift \u2014 covering for Wing"
  }
}`

func BenchmarkMatch(b *testing.B) {
	p := MustCompile(benchPattern)
	event := []byte(benchEvent)
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	for b.Loop() {
		ok, err := p.Match(event)
		if err != nil || !ok {
			b.Fatalf("Match = %v, %v", ok, err)
		}
	}
}

func BenchmarkMatchParallel(b *testing.B) {
	p := MustCompile(benchPattern)
	event := []byte(benchEvent)
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := p.Match(event); err != nil || !ok {
				b.Errorf("Match = %v, %v", ok, err)
				return
			}
		}
	})
}

func BenchmarkMatchValue(b *testing.B) {
	p := MustCompile(benchPattern)
	event := decodeEvent(b, benchEvent)
	b.ReportAllocs()
	for b.Loop() {
		if !p.MatchValue(event) {
			b.Fatal("MatchValue = false")
		}
	}
}

// BenchmarkUnmarshal is the cost of only decoding the event with
// encoding/json, for comparison with BenchmarkMatch.
func BenchmarkUnmarshal(b *testing.B) {
	event := []byte(benchEvent)
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(event, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile([]byte(benchPattern)); err != nil {
			b.Fatal(err)
		}
	}
}
