package identityfn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/keyparam"
	"github.com/lantau-hq/lantau/shared/logging"
	"github.com/lantau-hq/lantau/shared/token"
)

// RotationMinAge is how old the newest signing key must be before a
// rotation adds another: the schedule fires monthly, and a redelivered or
// hand-fired run inside that time changes nothing.
const RotationMinAge = 20 * 24 * time.Hour

// KeySet is what the rotator needs of the signing keys.
type KeySet interface {
	Keys(ctx context.Context) ([]token.SigningKey, error)
	Rotate(ctx context.Context) (token.SigningKey, error)
}

// Rotator rotates the token signing keys on a schedule. The new key is
// published at once and signs only after the key source's lead time, so
// verifiers (API Gateway caches the JWKS) know it before any token carries
// it; the old key stays published for the grace period, so nobody is
// signed out.
type Rotator struct {
	Keys   KeySet
	MinAge time.Duration
	Now    func() time.Time
	Log    *slog.Logger
}

// NewKeyRotator is the constructor of the key rotation function
// (functions/keyrotation).
func NewKeyRotator(ctx context.Context, env function.Env) (lambda.Handler, error) {
	base, err := function.LoadBase(env)
	if err != nil {
		return nil, err
	}
	prefix := env("KEY_PARAMETER_PREFIX")
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("KEY_PARAMETER_PREFIX %q must start and end with /", prefix)
	}
	awsCfg, err := awsconfig.Load(ctx, env)
	if err != nil {
		return nil, err
	}
	keys := &token.ParameterKeys{Store: &keyparam.Store{API: keyparam.NewClient(awsCfg, env)}, Prefix: prefix, CacheTTL: time.Nanosecond}
	return &Rotator{Keys: keys, MinAge: RotationMinAge, Now: time.Now,
		Log: logging.New(os.Stdout, base.FunctionName, base.LogLevel)}, nil
}

// Invoke rotates when the newest key is at least MinAge old; {"force":true}
// rotates anyway (after a suspected key leak).
func (r *Rotator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var in struct {
		Force bool `json:"force"`
	}
	_ = json.Unmarshal(payload, &in) // a scheduled event has no "force"
	keys, err := r.Keys.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	var newest time.Time
	for _, k := range keys {
		if k.ActiveAt().After(newest) {
			newest = k.ActiveAt()
		}
	}
	now := r.Now()
	if !in.Force && len(keys) > 0 && now.Sub(newest) < r.MinAge {
		r.Log.InfoContext(ctx, "signing key is fresh: not rotated", "newest_active_at", newest)
		return json.Marshal(map[string]any{"rotated": false, "newestActiveAt": newest})
	}
	k, err := r.Keys.Rotate(ctx)
	if err != nil {
		return nil, fmt.Errorf("rotate: %w", err)
	}
	r.Log.InfoContext(ctx, "signing key rotated", "kid", k.ID(), "active_at", k.ActiveAt())
	return json.Marshal(map[string]any{"rotated": true, "kid": k.ID(), "activeAt": k.ActiveAt()})
}
