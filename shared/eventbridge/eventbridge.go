// Package eventbridge publishes Lantau's domain events to an EventBridge bus
// through aws-sdk-go-v2. Locally the runner answers PutEvents.
package eventbridge

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/function"
)

// PutEventsAPI is the one SDK operation the publisher needs.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *sdk.PutEventsInput, opts ...func(*sdk.Options)) (*sdk.PutEventsOutput, error)
}

// Publisher publishes envelopes to one bus.
type Publisher struct {
	api PutEventsAPI
	bus string
}

var _ event.Publisher = (*Publisher)(nil)

// New returns a publisher to the named bus.
func New(api PutEventsAPI, bus string) *Publisher { return &Publisher{api: api, bus: bus} }

// maxBatch is PutEvents' limit of entries per call.
const maxBatch = 10

// Publish sends the envelopes in batches of ten. Entries that failed are
// retried once (EventBridge reports failures per entry); what still fails
// is returned as an error, so the caller can retry the whole call: consumers
// are idempotent on the envelope ID.
func (p *Publisher) Publish(ctx context.Context, evs ...event.Envelope) error {
	for start := 0; start < len(evs); start += maxBatch {
		batch := evs[start:min(start+maxBatch, len(evs))]
		entries := make([]types.PutEventsRequestEntry, len(batch))
		for i, e := range batch {
			if err := e.Validate(); err != nil {
				return err
			}
			detail, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encode event %s: %w", e.ID, err)
			}
			entries[i] = types.PutEventsRequestEntry{
				EventBusName: aws.String(p.bus), Source: aws.String(e.Source), DetailType: aws.String(e.Type),
				Detail: aws.String(string(detail)), Time: aws.Time(e.OccurredAt),
			}
		}
		if err := p.put(ctx, entries, 2); err != nil {
			return err
		}
	}
	return nil
}

func (p *Publisher) put(ctx context.Context, entries []types.PutEventsRequestEntry, tries int) error {
	out, err := p.api.PutEvents(ctx, &sdk.PutEventsInput{Entries: entries})
	if err != nil {
		return fmt.Errorf("publish events: %w", err)
	}
	if out.FailedEntryCount == 0 {
		return nil
	}
	var failed []types.PutEventsRequestEntry
	var first string
	for i, r := range out.Entries {
		if r.ErrorCode != nil {
			failed = append(failed, entries[i])
			if first == "" {
				first = aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
			}
		}
	}
	if tries > 1 {
		return p.put(ctx, failed, tries-1)
	}
	return fmt.Errorf("publish events: %d of %d refused (%s)", len(failed), len(entries), first)
}

// NewFromEnv builds the SDK client for the function's environment and a
// publisher to EVENT_BUS_NAME.
func NewFromEnv(cfg aws.Config, env function.Env) (*Publisher, error) {
	bus := env("EVENT_BUS_NAME")
	if bus == "" {
		return nil, fmt.Errorf("missing configuration: EVENT_BUS_NAME")
	}
	client := sdk.NewFromConfig(cfg, func(o *sdk.Options) { o.BaseEndpoint = awsconfig.Endpoint(env, "EventBridge") })
	return New(client, bus), nil
}
