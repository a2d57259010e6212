package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lantau-hq/lantau/shared/audit"
)

const auditWorkers = 8

// Audit cases: every appender on one tenant's chain, where appends serialize
// on the chain's head and losers retry, or each appender on a tenant of its own.
const (
	auditOneTenant  = "append, 1 tenant"
	auditTenantEach = "append, 8 tenants"
)

// measureAudit measures audit.Chain.Append, contended then uncontended.
func (b *backend) measureAudit(ctx context.Context) ([]opStats, error) {
	chain := audit.New(b.store, nil)
	cases := []struct {
		name    string
		tenants int
		tenant  func(worker int) string
	}{
		{auditOneTenant, 1, func(int) string { return "t-audit-one" }},
		{auditTenantEach, auditWorkers, func(w int) string { return fmt.Sprintf("t-audit-%d", w) }},
	}
	var all []opStats
	for _, c := range cases {
		s, err := b.measure(ctx, c.name, auditWorkers, appendTo(chain, c.tenant))
		if err != nil {
			return all, err
		}
		s.Tenants = c.tenants
		all = append(all, s)
	}
	return all, nil
}

// appendTo appends one new event record per call to the worker's tenant.
func appendTo(chain *audit.Chain, tenant func(worker int) string) callFunc {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	return func(ctx context.Context, worker, seq int) error {
		_, err := chain.Append(ctx, tenant(worker), audit.Record{
			ID: fmt.Sprintf("evt-%08d", seq), Kind: "event", Source: "lantau.attendance", Type: "ClockedIn",
			Actor: "u-1024", Time: at, Data: benchDoc,
		})
		return err
	}
}
