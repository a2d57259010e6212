package eventbridge_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lantau-hq/lantau/infra/catalog"
	"github.com/lantau-hq/lantau/infra/runner"
	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/event"
	"github.com/lantau-hq/lantau/shared/eventbridge"
)

func envelope(t *testing.T, typ string) event.Envelope {
	t.Helper()
	e, err := event.New("lantau.directory", typ, "t-acme", "u-1", time.Now(), map[string]string{"employeeId": "e-1"})
	require.NoError(t, err)
	return e
}

// The runner is the EventBridge emulator here: the publisher goes through
// the real SDK to the runner's PutEvents, with the function's environment.
func TestPublisher_PublishesThroughTheRunner(t *testing.T) {
	r, err := runner.New(context.Background(), runner.Config{
		Template: "../../template.yaml", Constructors: catalog.Constructors(), DataDir: t.TempDir(),
		Addr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", NoSchedules: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	r.Start()
	t.Cleanup(func() { _ = r.Close() })
	env := r.Function("health").Env
	getenv := func(k string) string { return env[k] }
	cfg, err := awsconfig.Load(context.Background(), getenv)
	require.NoError(t, err)
	p, err := eventbridge.NewFromEnv(cfg, getenv)
	require.NoError(t, err)

	evs := make([]event.Envelope, 23) // three PutEvents calls
	for i := range evs {
		evs[i] = envelope(t, "EmployeeLeft")
	}
	require.NoError(t, p.Publish(context.Background(), evs...))

	wrongBus := eventbridge.New(sdk.NewFromConfig(cfg, func(o *sdk.Options) { o.BaseEndpoint = aws.String(r.AWSEndpoint()) }), "no-such-bus")
	err = wrongBus.Publish(context.Background(), envelope(t, "EmployeeLeft"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ResourceNotFoundException")
}

type fakeAPI struct {
	put func(in *sdk.PutEventsInput) (*sdk.PutEventsOutput, error)
}

func (f fakeAPI) PutEvents(_ context.Context, in *sdk.PutEventsInput, _ ...func(*sdk.Options)) (*sdk.PutEventsOutput, error) {
	return f.put(in)
}

func TestPublisher_RetriesOnlyTheRefusedEntriesOnce(t *testing.T) {
	var calls [][]string
	p := eventbridge.New(fakeAPI{put: func(in *sdk.PutEventsInput) (*sdk.PutEventsOutput, error) {
		var ids []string
		out := &sdk.PutEventsOutput{}
		for i, e := range in.Entries {
			var env struct{ ID string }
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(e.Detail)), &env))
			ids = append(ids, env.ID)
			if len(calls) == 0 && i == 1 {
				out.FailedEntryCount++
				out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException")})
				continue
			}
			out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("x")})
		}
		calls = append(calls, ids)
		return out, nil
	}}, "bus")
	a, b, c := envelope(t, "Alpha"), envelope(t, "Beta"), envelope(t, "Gamma")
	require.NoError(t, p.Publish(context.Background(), a, b, c))
	assert.Equal(t, [][]string{{a.ID, b.ID, c.ID}, {b.ID}}, calls)
}

func TestPublisher_RefusesAnInvalidEnvelopeBeforeSending(t *testing.T) {
	p := eventbridge.New(fakeAPI{put: func(*sdk.PutEventsInput) (*sdk.PutEventsOutput, error) {
		t.Fatal("nothing may be sent")
		return nil, nil
	}}, "bus")
	bad := envelope(t, "EmployeeLeft")
	bad.Tenant = ""
	err := p.Publish(context.Background(), bad)
	require.ErrorIs(t, err, event.ErrInvalid)
}
