package rootsfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/lantau-hq/lantau/shared/attendance"
	"github.com/lantau-hq/lantau/shared/attendance/attendancefn"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/problem"
)

// S3API is what S3Roots calls (*s3.Client has it).
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Roots keeps snapshots in an S3 bucket with Object Lock (retention in
// COMPLIANCE mode set by the bucket's default, see template.yaml) at
// attendance/roots/<tenant>/<date>.json.
type S3Roots struct {
	API    S3API
	Bucket string
}

var _ attendancefn.RootStore = (*S3Roots)(nil)

// PutSnapshot writes the snapshot unless the day has one already.
func (s *S3Roots) PutSnapshot(ctx context.Context, snap attendance.Snapshot) (bool, error) {
	if _, err := s.Snapshot(ctx, snap.Root.Tenant, snap.Root.Date); err == nil {
		return false, nil
	} else if problem.KindOf(err) != problem.NotFound {
		return false, err
	}
	body, err := json.Marshal(snap)
	if err != nil {
		return false, err
	}
	_, err = s.API.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(attendancefn.RootKey(snap.Root.Tenant, snap.Root.Date)),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json"), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		return false, problem.E("attendance.PutSnapshot", problem.Unavailable, err)
	}
	return true, nil
}

var textNoRoot = i18n.Text{EN: "There is no signed root for that day yet (each day's is written after midnight, Hong Kong time).",
	ZH: "該日尚未有簽署根雜湊（每日的根雜湊於香港時間午夜後寫入）。"}

// Snapshot reads a day's snapshot.
func (s *S3Roots) Snapshot(ctx context.Context, tenant, date string) (attendance.Snapshot, error) {
	const op = "attendance.Snapshot"
	out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(attendancefn.RootKey(tenant, date))})
	var nsk *types.NoSuchKey
	var api smithy.APIError
	switch {
	case errors.As(err, &nsk) || (errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")):
		return attendance.Snapshot{}, problem.E(op, problem.NotFound, problem.Code("no-root"), textNoRoot, err)
	case err != nil:
		return attendance.Snapshot{}, problem.E(op, problem.Unavailable, err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, 64<<20))
	if err != nil {
		return attendance.Snapshot{}, problem.E(op, problem.Unavailable, err)
	}
	var snap attendance.Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return attendance.Snapshot{}, problem.E(op, problem.Internal, fmt.Errorf("snapshot %s: %w", attendancefn.RootKey(tenant, date), err))
	}
	return snap, nil
}
