// Package health answers GET /v1/health: the first thing a client or a load
// balancer calls, so it needs no token and touches no dependency.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/function"
)

// Version is set at build time with -ldflags "-X github.com/lantau-hq/lantau/shared/health.Version=...".
var Version = "dev"

// Status is the body of a health answer.
type Status struct {
	Status   string    `json:"status"`
	Service  string    `json:"service"`
	Version  string    `json:"version"`
	Region   string    `json:"region,omitempty"`
	Function string    `json:"function,omitempty"`
	Time     time.Time `json:"time"`
}

// Handler serves the health route.
type Handler struct {
	base function.Base
	now  func() time.Time
}

// NewHandler returns the net/http handler.
func NewHandler(base function.Base, now func() time.Time) *Handler {
	return &Handler{base: base, now: now}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(Status{
		Status: "ok", Service: "lantau", Version: Version,
		Region: h.base.Region, Function: h.base.FunctionName, Time: h.now().UTC(),
	})
}

// New is the function's constructor, called by its main and by the local runner.
func New(_ context.Context, env function.Env) (lambda.Handler, error) {
	base, err := function.LoadBase(env)
	if err != nil {
		return nil, err
	}
	return function.HTTP(NewHandler(base, time.Now)), nil
}
