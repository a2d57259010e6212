package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lantau-hq/lantau/infra/eventpattern"
	"github.com/lantau-hq/lantau/infra/template"
)

// rule is one EventBridgeRule event of a function.
type rule struct {
	name      string // Function.Event
	bus       string
	pattern   *eventpattern.Pattern
	input     json.RawMessage // constant Input, if any
	inputPath string
	fn        *Function
}

// bus answers EventBridge's PutEvents and delivers each event to every rule
// whose pattern matches.
type bus struct {
	r     *Runner
	names map[string]bool // known bus names
	rules []*rule
}

// Limits PutEvents enforces, as EventBridge does.
const (
	maxEntries   = 10
	maxEntrySize = 256 * 1024
)

func newBus(r *Runner) (*bus, error) {
	b := &bus{r: r, names: map[string]bool{"default": true}}
	for _, id := range sortedKeys(r.tmpl.Resources) {
		if r.tmpl.Resources[id].Type == "AWS::Events::EventBus" {
			v, err := r.res.Ref(id)
			if err != nil {
				return nil, &template.Error{Resource: id, Reason: err.Error()}
			}
			b.names[fmt.Sprint(v)] = true
		}
	}
	for _, fid := range sortedKeys(r.functions) {
		fn := r.functions[fid]
		for _, ev := range fn.Spec.Events {
			if ev.Type != "EventBridgeRule" {
				continue
			}
			where := "Events." + ev.Name + ".Properties"
			ru := &rule{name: fid + "." + ev.Name, bus: "default", fn: fn}
			if v, ok := ev.Properties["EventBusName"]; ok {
				s, err := r.res.String(v, fid, where+".EventBusName")
				if err != nil {
					return nil, err
				}
				ru.bus = busName(s)
			}
			if !b.names[ru.bus] {
				return nil, &template.Error{Resource: fid, Property: where + ".EventBusName", Reason: fmt.Sprintf("no event bus %q in the template", ru.bus)}
			}
			if st, ok := ev.Properties["State"]; ok {
				s, err := r.res.String(st, fid, where+".State")
				if err != nil {
					return nil, err
				}
				if s == "DISABLED" {
					continue
				}
			}
			pj, err := r.res.JSON(ev.Properties["Pattern"], fid, where+".Pattern")
			if err != nil {
				return nil, err
			}
			if ru.pattern, err = eventpattern.Compile(pj); err != nil {
				return nil, &template.Error{Resource: fid, Property: where + ".Pattern", Reason: err.Error()}
			}
			if v, ok := ev.Properties["Input"]; ok {
				s, err := r.res.String(v, fid, where+".Input")
				if err != nil {
					return nil, err
				}
				if !json.Valid([]byte(s)) {
					return nil, &template.Error{Resource: fid, Property: where + ".Input", Reason: "must be a JSON text"}
				}
				ru.input = json.RawMessage(s)
			}
			if v, ok := ev.Properties["InputPath"]; ok {
				s, err := r.res.String(v, fid, where+".InputPath")
				if err != nil {
					return nil, err
				}
				if _, err := jsonPath(nil, s); err != nil {
					return nil, &template.Error{Resource: fid, Property: where + ".InputPath", Reason: err.Error()}
				}
				ru.inputPath = s
			}
			b.rules = append(b.rules, ru)
		}
	}
	return b, nil
}

// busName accepts a bus name or ARN.
func busName(s string) string {
	if i := strings.LastIndex(s, ":event-bus/"); i >= 0 {
		return s[i+len(":event-bus/"):]
	}
	if s == "" {
		return "default"
	}
	return s
}

type putEventsEntry struct {
	Source       string   `json:"Source"`
	DetailType   string   `json:"DetailType"`
	Detail       string   `json:"Detail"`
	EventBusName string   `json:"EventBusName"`
	Resources    []string `json:"Resources"`
	Time         *float64 `json:"Time"`
	TraceHeader  string   `json:"TraceHeader"`
}

type putEventsResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func (b *bus) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	target := req.Header.Get("X-Amz-Target")
	if target != "AWSEvents.PutEvents" {
		awsError(w, http.StatusBadRequest, "UnknownOperationException", "the local runner answers AWSEvents.PutEvents only, not "+target)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 2*maxEntries*maxEntrySize))
	if err != nil {
		awsError(w, http.StatusBadRequest, "ValidationException", "could not read the request")
		return
	}
	var in struct {
		Entries []putEventsEntry `json:"Entries"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		awsError(w, http.StatusBadRequest, "SerializationException", "request body is not valid JSON: "+err.Error())
		return
	}
	if len(in.Entries) == 0 || len(in.Entries) > maxEntries {
		awsError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d", maxEntries))
		return
	}
	results, failed, err := b.put(in.Entries)
	if err != nil {
		b.r.log.Error("PutEvents could not spool deliveries", "error", err)
		awsError(w, http.StatusInternalServerError, "InternalException", "the event could not be stored")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"FailedEntryCount": failed, "Entries": results})
}

// put validates each entry, matches it against the rules and spools a
// delivery per matching rule. An entry is acknowledged only once its
// deliveries are durable.
func (b *bus) put(entries []putEventsEntry) ([]putEventsResultEntry, int, error) {
	results := make([]putEventsResultEntry, len(entries))
	failed := 0
	var deliveries []*delivery
	for i, e := range entries {
		ev, code, msg := b.event(e)
		if code != "" {
			results[i] = putEventsResultEntry{ErrorCode: code, ErrorMessage: msg}
			failed++
			continue
		}
		results[i] = putEventsResultEntry{EventID: ev["id"].(string)}
		raw := mustJSON(ev)
		for _, ru := range b.rules {
			if ru.bus != busName(e.EventBusName) {
				continue
			}
			ok, err := ru.pattern.Match(raw)
			if err != nil || !ok {
				continue
			}
			payload := json.RawMessage(raw)
			if ru.input != nil {
				payload = ru.input
			} else if ru.inputPath != "" {
				v, _ := jsonPath(ev, ru.inputPath)
				payload = mustJSON(v)
			}
			deliveries = append(deliveries, &delivery{Function: ru.fn.Spec.LogicalID, Trigger: "EventBridgeRule:" + ru.name, Payload: payload})
		}
	}
	if err := b.r.async.enqueue(deliveries...); err != nil {
		return nil, 0, err
	}
	return results, failed, nil
}

// event builds the EventBridge event for an entry, or says why it is refused.
func (b *bus) event(e putEventsEntry) (map[string]any, string, string) {
	switch {
	case e.Source == "":
		return nil, "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case e.DetailType == "":
		return nil, "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case e.Detail == "":
		return nil, "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	case strings.HasPrefix(e.Source, "aws."):
		return nil, "NotAuthorizedForSourceException", "Not authorized for the source " + e.Source + "."
	case len(e.Source)+len(e.DetailType)+len(e.Detail)+len(strings.Join(e.Resources, "")) > maxEntrySize:
		return nil, "InvalidArgument", "Total size of the entries in the request is over the limit."
	}
	if !b.names[busName(e.EventBusName)] {
		return nil, "ResourceNotFoundException", "Event bus " + busName(e.EventBusName) + " does not exist."
	}
	var detail map[string]any
	dec := json.NewDecoder(strings.NewReader(e.Detail))
	dec.UseNumber()
	if err := dec.Decode(&detail); err != nil || dec.More() {
		return nil, "MalformedDetail", "Detail is malformed."
	}
	t := time.Now().UTC()
	if e.Time != nil {
		sec := int64(*e.Time)
		t = time.Unix(sec, int64((*e.Time-float64(sec))*1e9)).UTC()
	}
	resources := e.Resources
	if resources == nil {
		resources = []string{}
	}
	return map[string]any{
		"version": "0", "id": newID(), "detail-type": e.DetailType, "source": e.Source,
		"account": AccountID, "time": t.Format(time.RFC3339), "region": b.r.cfg.Region,
		"resources": resources, "detail": detail,
	}, "", ""
}

// jsonPath reads the simple paths EventBridge's InputPath uses: $, $.a.b.
func jsonPath(v any, path string) (any, error) {
	if path == "$" {
		return v, nil
	}
	rest, ok := strings.CutPrefix(path, "$.")
	if !ok || rest == "" {
		return nil, fmt.Errorf("InputPath %q: only $ and $.field.field paths are supported", path)
	}
	for _, part := range strings.Split(rest, ".") {
		if part == "" {
			return nil, fmt.Errorf("InputPath %q: empty field name", path)
		}
		m, _ := v.(map[string]any)
		v = m[part]
	}
	return v, nil
}
