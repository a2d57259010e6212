package runner

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/lantau-hq/lantau/shared/audit"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/storage"
)

// adminHandler serves the runner's own endpoints under /_lantau/ on the AWS
// port: what is wired, the dead letters and their replay, firing a
// schedule, and invoking a function with a raw payload.
func (r *Runner) adminHandler() http.Handler {
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	fail := func(w http.ResponseWriter, status int, msg string) {
		writeJSON(w, status, map[string]string{"message": msg})
	}
	mux.HandleFunc("GET /_lantau/wiring", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, r.Wiring())
	})
	mux.HandleFunc("GET /_lantau/deadletters", func(w http.ResponseWriter, _ *http.Request) {
		ds, err := r.async.deadLetters()
		if err != nil {
			fail(w, http.StatusInternalServerError, err.Error())
			return
		}
		if ds == nil {
			ds = []*delivery{}
		}
		writeJSON(w, http.StatusOK, ds)
	})
	mux.HandleFunc("POST /_lantau/deadletters/{id}/replay", func(w http.ResponseWriter, req *http.Request) {
		d, err := r.async.replay(req.PathValue("id"))
		switch {
		case errors.Is(err, errNoDeadLetter):
			fail(w, http.StatusNotFound, "no dead letter "+req.PathValue("id"))
		case err != nil:
			fail(w, http.StatusConflict, err.Error())
		default:
			writeJSON(w, http.StatusAccepted, d)
		}
	})
	// The audit chain, read through the same store instance the functions
	// use (the embedded store allows one process at a time).
	chain := func(req *http.Request) (*audit.Chain, error) {
		store, err := storage.OpenTable(req.Context(), function.MapEnv(map[string]string{"LANTAU_TABLE_PATH": r.dataPath("table.db")}))
		if err != nil {
			return nil, err
		}
		return audit.New(store, nil), nil
	}
	mux.HandleFunc("GET /_lantau/audit/{tenant}/verify", func(w http.ResponseWriter, req *http.Request) {
		c, err := chain(req)
		if err != nil {
			fail(w, http.StatusInternalServerError, err.Error())
			return
		}
		rep, err := c.Verify(req.Context(), req.PathValue("tenant"))
		if err != nil {
			fail(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc("GET /_lantau/audit/{tenant}/entries", func(w http.ResponseWriter, req *http.Request) {
		c, err := chain(req)
		if err != nil {
			fail(w, http.StatusInternalServerError, err.Error())
			return
		}
		entries, next, err := c.Page(req.Context(), req.PathValue("tenant"), 500, req.URL.Query().Get("cursor"), false)
		if err != nil {
			fail(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "cursor": next})
	})
	mux.HandleFunc("POST /_lantau/schedules/{name}/fire", func(w http.ResponseWriter, req *http.Request) {
		out, err := r.sched.fire(req.Context(), req.PathValue("name"))
		r.writeInvokeResult(w, out, err)
	})
	mux.HandleFunc("POST /_lantau/functions/{name}/invoke", func(w http.ResponseWriter, req *http.Request) {
		fn := r.Function(req.PathValue("name"))
		if fn == nil {
			fail(w, http.StatusNotFound, "no function "+req.PathValue("name"))
			return
		}
		payload, err := io.ReadAll(io.LimitReader(req.Body, maxPayload+1))
		if err != nil || len(payload) > maxPayload || !json.Valid(payload) {
			fail(w, http.StatusBadRequest, "the payload must be JSON of at most 6 MB")
			return
		}
		out, err := fn.Invoke(req.Context(), "", payload)
		r.writeInvokeResult(w, out, err)
	})
	return mux
}

// writeInvokeResult answers like Lambda's Invoke API: the output, or the
// error object with X-Amz-Function-Error set.
func (r *Runner) writeInvokeResult(w http.ResponseWriter, out []byte, err error) {
	w.Header().Set("Content-Type", "application/json")
	if errors.Is(err, errUnknownSchedule) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"no such schedule; GET /_lantau/wiring lists them"}`))
		return
	}
	if err != nil {
		var fe *FunctionError
		if !errors.As(err, &fe) {
			fe = &FunctionError{Message: err.Error(), Type: "Runner.Error"}
		}
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(fe)
		return
	}
	_, _ = w.Write(out)
}

// Wiring describes what the runner built from the template.
type Wiring struct {
	API       string         `json:"api"`
	AWS       string         `json:"aws"`
	Functions []string       `json:"functions"`
	Routes    []WiredRoute   `json:"routes"`
	Rules     []WiredTrigger `json:"rules"`
	S3        []WiredTrigger `json:"s3"`
	Schedules []WiredTrigger `json:"schedules"`
}

// WiredRoute is one HTTP route.
type WiredRoute struct {
	Route    string `json:"route"`
	Function string `json:"function"`
	Auth     bool   `json:"auth"`
}

// WiredTrigger is one subscription or schedule.
type WiredTrigger struct {
	Name     string `json:"name"`
	Function string `json:"function"`
	Detail   string `json:"detail,omitempty"`
}

// Wiring lists the routes, rules, S3 subscriptions and schedules.
func (r *Runner) Wiring() Wiring {
	w := Wiring{API: r.APIEndpoint(), AWS: r.AWSEndpoint(), Functions: sortedKeys(r.functions)}
	for _, rt := range r.api.routes {
		w.Routes = append(w.Routes, WiredRoute{Route: rt.key, Function: rt.fn.Spec.LogicalID, Auth: rt.authorizer != nil})
	}
	for _, ru := range r.bus.rules {
		w.Rules = append(w.Rules, WiredTrigger{Name: ru.name, Function: ru.fn.Spec.LogicalID, Detail: "bus " + ru.bus})
	}
	for _, s := range r.objects.subs {
		w.S3 = append(w.S3, WiredTrigger{Name: s.name, Function: s.fn.Spec.LogicalID, Detail: s.bucket + "/" + s.prefix + "*" + s.suffix})
	}
	for _, e := range r.sched.entries {
		detail := e.expr.String()
		if !e.enabled {
			detail += " (disabled)"
		}
		w.Schedules = append(w.Schedules, WiredTrigger{Name: e.name, Function: e.fn.Spec.LogicalID, Detail: detail})
	}
	return w
}
