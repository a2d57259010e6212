package runner

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lantau-hq/lantau/infra/s3server"
	"github.com/lantau-hq/lantau/infra/template"
)

// s3sub is one S3 event of a function.
type s3sub struct {
	name   string
	bucket string
	events []string // e.g. s3:ObjectCreated:*
	prefix string
	suffix string
	fn     *Function
}

// objectStore is the local S3: the buckets of the template, kept on disk
// with their versions, with upload notifications to subscribed functions.
type objectStore struct {
	r    *Runner
	srv  *s3server.Server
	subs []*s3sub
	// ready is closed by Start once subs is complete and the spool left
	// by the last run is resumed: s3server starts delivering what its
	// outbox kept as soon as it opens, before the functions are built, and
	// a delivery spooled before resume would be started twice.
	ready chan struct{}
	// notified counts the notifications spooled (tests wait on it).
	notified atomic.Int64
}

func newObjectStore(r *Runner) (*objectStore, error) {
	o := &objectStore{r: r, ready: make(chan struct{})}
	var buckets []s3server.BucketConfig
	for _, id := range sortedKeys(r.tmpl.Resources) {
		res := r.tmpl.Resources[id]
		if res.Type != "AWS::S3::Bucket" {
			continue
		}
		name, err := r.res.Ref(id)
		if err != nil {
			return nil, &template.Error{Resource: id, Reason: err.Error()}
		}
		versioned := false
		if vc, ok := res.Properties["VersioningConfiguration"].(map[string]any); ok {
			st, err := r.res.String(vc["Status"], id, "VersioningConfiguration.Status")
			if err != nil {
				return nil, err
			}
			versioned = st == "Enabled"
		}
		buckets = append(buckets, s3server.BucketConfig{Name: fmt.Sprint(name), Versioning: versioned})
	}
	srv, err := s3server.New(s3server.Options{
		Dir:         r.dataPath("s3"),
		Region:      r.cfg.Region,
		Credentials: map[string]string{AccessKeyID: SecretAccessKey},
		Notify:      o.notify,
		Buckets:     buckets,
		Now:         r.cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	o.srv = srv
	return o, nil
}

// subscribe reads the functions' S3 events; called once functions exist.
func (o *objectStore) subscribe() error {
	r := o.r
	for _, fid := range sortedKeys(r.functions) {
		fn := r.functions[fid]
		for _, ev := range fn.Spec.Events {
			if ev.Type != "S3" {
				continue
			}
			where := "Events." + ev.Name + ".Properties"
			bm, _ := ev.Properties["Bucket"].(map[string]any)
			ref, _ := bm["Ref"].(string)
			if res := r.tmpl.Resources[ref]; res == nil || res.Type != "AWS::S3::Bucket" {
				return &template.Error{Resource: fid, Property: where + ".Bucket", Reason: "must be !Ref of an AWS::S3::Bucket in this template (as SAM requires)"}
			}
			bucket, _ := r.res.Ref(ref)
			sub := &s3sub{name: fid + "." + ev.Name, bucket: fmt.Sprint(bucket), fn: fn}
			evs, err := r.res.Value(ev.Properties["Events"], fid, where+".Events")
			if err != nil {
				return err
			}
			switch v := evs.(type) {
			case string:
				sub.events = []string{v}
			case []any:
				for _, e := range v {
					sub.events = append(sub.events, fmt.Sprint(e))
				}
			}
			for _, e := range sub.events {
				if !validS3Event(e) {
					return &template.Error{Resource: fid, Property: where + ".Events", Reason: fmt.Sprintf("unknown S3 event type %q", e)}
				}
			}
			if f, ok := ev.Properties["Filter"]; ok {
				if err := o.readFilter(sub, f, fid, where+".Filter"); err != nil {
					return err
				}
			}
			o.subs = append(o.subs, sub)
		}
	}
	return nil
}

var s3EventTypes = []string{
	"s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
	"s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete",
	"s3:ObjectRemoved:DeleteMarkerCreated",
}

func validS3Event(e string) bool {
	for _, t := range s3EventTypes {
		if t == e {
			return true
		}
	}
	return false
}

func (o *objectStore) readFilter(sub *s3sub, f any, fid, where string) error {
	v, err := o.r.res.Value(f, fid, where)
	if err != nil {
		return err
	}
	fm, _ := v.(map[string]any)
	key, _ := fm["S3Key"].(map[string]any)
	rules, _ := key["Rules"].([]any)
	if len(fm) != 1 || key == nil || len(key) != 1 || rules == nil {
		return &template.Error{Resource: fid, Property: where, Reason: "must be S3Key: {Rules: [{Name: prefix|suffix, Value: ...}]}"}
	}
	for i, rv := range rules {
		rm, _ := rv.(map[string]any)
		name, _ := rm["Name"].(string)
		value, _ := rm["Value"].(string)
		if len(rm) != 2 || value == "" {
			return &template.Error{Resource: fid, Property: fmt.Sprintf("%s.S3Key.Rules[%d]", where, i), Reason: "a rule has Name and Value"}
		}
		switch strings.ToLower(name) {
		case "prefix":
			sub.prefix = value
		case "suffix":
			sub.suffix = value
		default:
			return &template.Error{Resource: fid, Property: fmt.Sprintf("%s.S3Key.Rules[%d].Name", where, i), Reason: "must be prefix or suffix"}
		}
	}
	return nil
}

func (s *s3sub) matches(n s3server.Notification) bool {
	if s.bucket != n.Bucket || !strings.HasPrefix(n.Key, s.prefix) || !strings.HasSuffix(n.Key, s.suffix) {
		return false
	}
	for _, e := range s.events {
		if ok, _ := path.Match(e, "s3:"+n.EventName); ok {
			return true
		}
	}
	return false
}

// errStopping refuses a notification while the runner stops: s3server keeps
// it in its outbox for the next start.
var errStopping = errors.New("runner is stopping")

// notify turns a stored change into an S3 event for each matching
// subscription and spools them. It returns nil only once they are durable:
// on an error s3server keeps the notification in its outbox and calls again
// (in order, with backoff), so an acknowledged upload is never left without
// its events. Delivery is at least once: if the process dies after the
// spooling but before s3server removes the notification from its outbox,
// or a spool write fails after earlier ones succeeded, the events are
// spooled again, so a function can see the same S3 event twice (as from S3
// itself) and must be idempotent, e.g. on bucket, key and sequencer.
func (o *objectStore) notify(n s3server.Notification) error {
	select {
	case <-o.ready:
	case <-o.r.ctx.Done():
		return errStopping
	}
	if o.r.ctx.Err() != nil {
		return errStopping // a delivery started now would be cut short
	}
	var ds []*delivery
	for _, s := range o.subs {
		if !s.matches(n) {
			continue
		}
		ds = append(ds, &delivery{Function: s.fn.Spec.LogicalID, Trigger: "S3:" + s.name, Payload: mustJSON(o.event(n))})
	}
	if err := o.r.async.enqueue(ds...); err != nil {
		o.r.log.Error("S3 notification could not be spooled; it will be retried", "bucket", n.Bucket, "key", n.Key, "error", err)
		return err
	}
	o.notified.Add(1)
	return nil
}

func (o *objectStore) event(n s3server.Notification) events.S3Event {
	t := n.Time
	if t.IsZero() {
		t = time.Now()
	}
	key := strings.ReplaceAll(url.QueryEscape(n.Key), "%2F", "/")
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: o.r.cfg.Region,
		EventTime: t.UTC(), EventName: n.EventName,
		PrincipalID:       events.S3UserIdentity{PrincipalID: "AWS:" + AccessKeyID},
		RequestParameters: events.S3RequestParameters{SourceIPAddress: n.SourceIP},
		ResponseElements:  map[string]string{"x-amz-request-id": newID()[:16]},
		S3: events.S3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "lantau-local",
			Bucket: events.S3Bucket{
				Name: n.Bucket, OwnerIdentity: events.S3UserIdentity{PrincipalID: AccountID},
				Arn: "arn:aws:s3:::" + n.Bucket,
			},
			Object: events.S3Object{Key: key, Size: n.Size, ETag: n.ETag, VersionID: n.VersionID, Sequencer: n.Sequencer},
		},
	}}}
}

func (o *objectStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.srv.Handler().ServeHTTP(w, r)
}

func (o *objectStore) close() error {
	if o == nil || o.srv == nil {
		return nil
	}
	return o.srv.Close()
}
