package directoryfn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lantau-hq/lantau/shared/audit/auditfn"
	"github.com/lantau-hq/lantau/shared/awsconfig"
	"github.com/lantau-hq/lantau/shared/directory"
	"github.com/lantau-hq/lantau/shared/function"
	"github.com/lantau-hq/lantau/shared/httpapi"
	"github.com/lantau-hq/lantau/shared/i18n"
	"github.com/lantau-hq/lantau/shared/identity"
	"github.com/lantau-hq/lantau/shared/identity/session"
	"github.com/lantau-hq/lantau/shared/job"
	"github.com/lantau-hq/lantau/shared/platform"
	"github.com/lantau-hq/lantau/shared/problem"
	"github.com/lantau-hq/lantau/shared/staffcsv"
	"github.com/lantau-hq/lantau/shared/table"
	"github.com/lantau-hq/lantau/shared/token"
)

// The staff import:
//
//	POST /v1/directory/imports?dryRun=true   the plan of a file: counts, every problem (200)
//	POST /v1/directory/imports               the real run (Idempotency-Key required): the file
//	                                         goes to S3 under imports/<tenant>/<job>.csv and a
//	                                         queued job is answered (202, Location)
//	GET  /v1/directory/imports/{jobId}       the job: status, percent, problems, result
//
// (GET /v1/directory/export is DirectoryExportFunction's: exportfn.)
// The upload's ObjectCreated notification runs the import in
// DirectoryImportFunction (NewImport), which decodes and plans the file
// again, fails the job with the problems of a bad file (nothing written)
// or writes it, reporting progress, and ends the job with the counts.

// MaxImportBytes is the largest file the import takes: Lambda's 6 MB
// payload. A binary body (UTF-16, Big5) arrives base64-encoded, so through
// API Gateway such a file is at most about 4.5 MB.
const MaxImportBytes = 6 << 20

// JobKind is the kind of the import's jobs.
const JobKind = "staff-import"

// ObjectAPI is what the import calls of S3 (*s3.Client has it).
type ObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ ObjectAPI = (*s3.Client)(nil)

// Imports runs staff imports.
type Imports struct {
	Directory *directory.Directory
	Jobs      *job.Jobs
	Objects   ObjectAPI
	Bucket    string
	Log       *slog.Logger
}

// importInput is what a job keeps of its request.
type importInput struct {
	Actor    identity.Actor `json:"actor"` // the uploader, as authorised at upload
	Lang     i18n.Lang      `json:"lang"`  // of the invitation mails
	Object   string         `json:"object"`
	Bytes    int            `json:"bytes"`
	SHA256   string         `json:"sha256"`
	Encoding string         `json:"encoding,omitempty"`
}

// ObjectKey is where a job's upload is kept.
func ObjectKey(tenant, jobID string) string { return "imports/" + tenant + "/" + jobID + ".csv" }

// importRoutes registers the import routes. They are not under
// the idempotency middleware of the other POSTs, which reads at most 1 MiB:
// the real run is idempotent by its job, whose ID the Idempotency-Key
// decides.
func (a *API) importRoutes(mux *http.ServeMux) {
	route := func(pattern, op string, fn func(http.ResponseWriter, *http.Request, identity.Actor) error) {
		h := httpapi.Handle(op, func(w http.ResponseWriter, r *http.Request) error {
			if a.Imports == nil {
				return problem.E(op, problem.Unavailable, "imports are not configured")
			}
			ha, _ := httpapi.ActorFrom(r.Context())
			return fn(w, r, identity.ActorFromClaims(ha.Tenant, ha.User, ha.SessionID, ha.Roles, ha.Scopes))
		})
		mux.Handle(pattern, httpapi.RequireActor(auditfn.RecordAccess(a.Access, a.Log)(session.Require(a.Sessions)(h))))
	}
	const base = "/v1/directory"
	route("POST "+base+"/imports", "directory.Import", func(w http.ResponseWriter, r *http.Request, ac identity.Actor) error {
		return a.Imports.post(w, r, ac)
	})
	route("GET "+base+"/imports/{jobId}", "directory.ImportJob", func(w http.ResponseWriter, r *http.Request, ac identity.Actor) error {
		return a.Imports.get(w, r, ac)
	})
}

// problemView is a problem of a file as the API shows it.
type problemView struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// dryRun is the answer of a dry run.
type dryRun struct {
	Rows                int      `json:"rows"`
	Creates             int      `json:"creates"`
	Updates             int      `json:"updates"`
	Unchanged           int      `json:"unchanged"`
	DepartmentsToCreate []string `json:"departmentsToCreate"`
	// Changes are the updates row by row: the fields each changes
	// ("email" with both addresses for a new sign-in address).
	Changes  []directory.RowChange `json:"changes"`
	Encoding string                `json:"encoding"`
	Problems []problemView         `json:"problems"`
	Warnings []problemView         `json:"warnings"`
}

// storedProblem is a problem as a failed job keeps it, in both languages.
type storedProblem struct {
	Line    int       `json:"line"`
	Column  int       `json:"column"`
	Field   string    `json:"field,omitempty"`
	Code    string    `json:"code"`
	Message i18n.Text `json:"message"`
}

func views(ps []staffcsv.Problem, lang i18n.Lang) []problemView {
	out := make([]problemView, len(ps))
	for i, p := range ps {
		out[i] = problemView{Line: p.Line, Column: p.Column, Field: p.Field, Code: p.Code, Message: p.Message.T(lang)}
	}
	return out
}

func flag(r *http.Request, name string) (bool, error) {
	switch strings.ToLower(r.URL.Query().Get(name)) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	var v httpapi.Validator
	v.Add(name, "boolean", i18n.Text{EN: "must be true or false", ZH: "必須為 true 或 false"})
	return false, v.Err()
}

// encodingOf reads ?encoding= (utf-8, utf-16, utf-16le, utf-16be, big5);
// "" detects it.
func encodingOf(r *http.Request) (string, error) {
	v := r.URL.Query().Get("encoding")
	if v == "" {
		return "", nil
	}
	if _, err := staffcsv.Decode(nil, staffcsv.Options{Encoding: v}); err != nil {
		var val httpapi.Validator
		val.Add("encoding", "encoding", i18n.Text{EN: "must be utf-8, utf-16, utf-16le, utf-16be or big5", ZH: "必須為 utf-8、utf-16、utf-16le、utf-16be 或 big5"})
		return "", val.Err()
	}
	return v, nil
}

func (im *Imports) post(w http.ResponseWriter, r *http.Request, a identity.Actor) error {
	const op = "directory.Import"
	ctx := r.Context()
	if err := im.Directory.AuthorizeImport(ctx, a); err != nil {
		return err
	}
	dry, err := flag(r, "dryRun")
	if err != nil {
		return err
	}
	enc, err := encodingOf(r)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxImportBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return problem.E(op, problem.TooLarge, problem.Code("file-too-large"), err, i18n.Text{
			EN: "The file is larger than 6 MB. Split it, or leave out columns you do not need.",
			ZH: "檔案大於 6 MB。請把檔案分拆，或刪去不需要的欄位。",
		})
	} else if err != nil {
		return problem.E(op, problem.Invalid, problem.Code("bad-body"), err)
	}
	if len(data) == 0 {
		return problem.E(op, problem.Invalid, problem.Code("no-file"), i18n.Text{
			EN: "Send the staff list (CSV or Excel's Unicode text) as the request body.",
			ZH: "請以請求內容傳送員工名單（CSV 或 Excel 的 Unicode 文字檔）。",
		})
	}
	lang := i18n.FromRequest(r)
	if dry {
		sh, err := staffcsv.Decode(data, staffcsv.Options{Encoding: enc})
		if err != nil {
			return problem.E(op, problem.Internal, err)
		}
		pl, err := im.Directory.PlanImport(ctx, a, sh)
		if err != nil {
			return err
		}
		return httpapi.JSON(w, http.StatusOK, dryRun{Rows: pl.Rows, Creates: pl.Creates, Updates: pl.Updates, Unchanged: pl.Unchanged,
			DepartmentsToCreate: pl.DepartmentsToCreate, Changes: pl.Changes, Encoding: sh.Encoding,
			Problems: views(pl.Problems, lang), Warnings: views(pl.Warnings, lang)})
	}

	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" || len(key) > 255 {
		return problem.E(op, problem.Invalid, problem.Code("idempotency-key-missing"), i18n.Text{
			EN: "Send an Idempotency-Key header (at most 255 characters) so that a retry cannot import twice.",
			ZH: "請提供 Idempotency-Key 標頭（最多 255 個字元），以免重試時重複匯入。",
		})
	}
	sum := sha256.Sum256(data)
	id := jobIDFor(a.Tenant, a.User, key)
	in := importInput{Actor: a, Lang: lang, Object: ObjectKey(a.Tenant, id), Bytes: len(data), SHA256: hex.EncodeToString(sum[:]), Encoding: enc}
	raw, err := json.Marshal(in)
	if err != nil {
		return problem.E(op, problem.Internal, err)
	}
	j, err := im.Jobs.Create(ctx, a.Tenant, job.Job{ID: id, Kind: JobKind, Input: raw, CreatedBy: a.User})
	if err != nil {
		return err
	}
	var got importInput
	if err := json.Unmarshal(j.Input, &got); err != nil || got.SHA256 != in.SHA256 {
		return problem.E(op, problem.Conflict, problem.Code("idempotency-key-reused"), i18n.Text{
			EN: "This Idempotency-Key was used for another file.", ZH: "此 Idempotency-Key 已用於另一個檔案。",
		})
	}
	// A job still queued may be a retry after the upload failed: upload
	// (again). S3 notifies each upload; the import of a job runs once to
	// its end and a second notification finds it ended or converges.
	if j.Status == job.Queued {
		if _, err := im.Objects.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(im.Bucket), Key: aws.String(in.Object),
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("text/csv")}); err != nil {
			return problem.E(op, problem.Unavailable, problem.Code("upload-failed"), err, i18n.Text{
				EN: "The file could not be stored. Please try again with the same Idempotency-Key.",
				ZH: "未能儲存檔案，請以相同的 Idempotency-Key 再試。",
			})
		}
	}
	w.Header().Set("Location", "/v1/directory/imports/"+j.ID)
	return httpapi.JSON(w, http.StatusAccepted, jobView(j, lang))
}

// jobIDFor is the job of an upload: the same caller with the same
// Idempotency-Key gets the same job.
func jobIDFor(tenant, user, key string) string {
	sum := sha256.Sum256([]byte("lantau-staff-import\x00" + tenant + "\x00" + user + "\x00" + key))
	return "job-" + strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:26]
}

// jobAnswer is a job as the API shows it.
type jobAnswer struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	Status    string          `json:"status"`
	Percent   int             `json:"percent"`
	Done      int             `json:"done"`
	Total     int             `json:"total"`
	Problems  []problemView   `json:"problems,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	CreatedBy string          `json:"createdBy"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
	EndedAt   time.Time       `json:"endedAt,omitzero"`
}

// jobView is a job as the API shows it, messages in lang.
func jobView(j job.Job, lang i18n.Lang) jobAnswer {
	v := jobAnswer{ID: j.ID, Kind: j.Kind, Status: j.Status, Percent: j.Percent, Done: j.Done, Total: j.Total, Result: j.Result,
		CreatedBy: j.CreatedBy, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, EndedAt: j.EndedAt}
	if len(j.Problems) > 0 {
		var ps []storedProblem
		if err := json.Unmarshal(j.Problems, &ps); err == nil {
			v.Problems = make([]problemView, len(ps))
			for i, p := range ps {
				v.Problems[i] = problemView{Line: p.Line, Column: p.Column, Field: p.Field, Code: p.Code, Message: p.Message.T(lang)}
			}
		}
	}
	return v
}

func (im *Imports) get(w http.ResponseWriter, r *http.Request, a identity.Actor) error {
	const op = "directory.ImportJob"
	ctx := r.Context()
	if err := im.Directory.AuthorizeImport(ctx, a); err != nil {
		return err
	}
	j, err := im.Jobs.FailIfStalled(ctx, a.Tenant, r.PathValue("jobId"), ImportStallAfter, []storedProblem{{
		Code: "import-stalled", Message: i18n.Text{
			EN: "This import stopped and will not finish; nothing after its last progress was written. Start it again: rows already imported are left as they are.",
			ZH: "此匯入已停止，不會完成；最後進度之後的資料沒有寫入。請重新匯入：已匯入的資料會保持不變。",
		}}})
	if err != nil {
		return err
	}
	// Department-scoped admins see their own imports only: another
	// admin's file may name people outside their subtree.
	if j.Kind != JobKind || (a.Department != "" && j.CreatedBy != a.User) {
		return problem.E(op, problem.NotFound, problem.Code("job-not-found"), i18n.Text{
			EN: "There is no such job in your company.", ZH: "你的公司沒有此工作。"}, "not an import of this admin")
	}
	return httpapi.JSON(w, http.StatusOK, jobView(j, i18n.FromRequest(r)))
}

// ImportStallAfter is how long an import may go without progress before a
// poll fails it: longer than the import function's 15-minute timeout, so
// only a worker that died for good (its upload dead-lettered) is failed.
const ImportStallAfter = 20 * time.Minute

// ImportRunner runs the imports whose uploads S3 announces
// (DirectoryImportFunction).
type ImportRunner struct {
	*Imports
	Accounts directory.Accounts
}

// NewImport is the import function's constructor (functions/directoryimport):
// subscribed to ObjectCreated under imports/ in the files bucket.
func NewImport(ctx context.Context, env function.Env) (lambda.Handler, error) {
	cfg, err := LoadConfig(env)
	if err != nil {
		return nil, err
	}
	bucket, err := function.Require(env, "BUCKET_NAME")
	if err != nil {
		return nil, err
	}
	pf, err := platform.Open(ctx, env)
	if err != nil {
		return nil, err
	}
	log, store, awsCfg, bus := pf.Log, pf.Store, pf.AWS, pf.Bus
	accounts := identity.New(identity.Deps{
		Store: store, Mail: mailSender(awsCfg, env), Events: bus, Refreshes: &token.Refreshes{Table: store},
		PublicURL: cfg.PublicURL, MailFrom: cfg.MailFrom, Log: log,
	})
	dir := directory.New(directory.Deps{Store: store, Accounts: accounts, Events: bus, Log: log})
	accounts.Departments = dir
	run := &ImportRunner{Imports: NewImports(dir, store, newS3Client(awsCfg, env), bucket["BUCKET_NAME"], log), Accounts: accounts}
	return lambda.NewHandler(run.Handle), nil
}

// NewImports builds the import over a directory, its table and S3.
func NewImports(dir *directory.Directory, store table.Store, objects ObjectAPI, bucket string, log *slog.Logger) *Imports {
	return &Imports{Directory: dir, Jobs: &job.Jobs{Table: store}, Objects: objects, Bucket: bucket, Log: log}
}

func newS3Client(cfg aws.Config, env function.Env) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = awsconfig.Endpoint(env, s3.ServiceID)
		o.UsePathStyle = o.BaseEndpoint != nil // the local runner serves path-style
	})
}

// Handle runs the import of each upload in the event. An error (the store
// or S3 failing) makes Lambda deliver the event again; the import resumes
// where the writes stopped.
func (ir *ImportRunner) Handle(ctx context.Context, e events.S3Event) error {
	var errs []error
	for _, rec := range e.Records {
		if !strings.HasPrefix(rec.EventName, "ObjectCreated:") {
			continue
		}
		key, err := url.QueryUnescape(rec.S3.Object.Key)
		if err != nil {
			ir.Log.ErrorContext(ctx, "import object key not readable: ignored", "key", rec.S3.Object.Key)
			continue
		}
		parts := strings.Split(key, "/")
		if len(parts) != 3 || parts[0] != "imports" || !strings.HasSuffix(parts[2], ".csv") {
			ir.Log.WarnContext(ctx, "not an import upload: ignored", "key", key)
			continue
		}
		if err := ir.run(ctx, rec.S3.Bucket.Name, key, parts[1], strings.TrimSuffix(parts[2], ".csv")); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// progressStep is how far (in percent) an import goes between two writes
// of its job: 50 writes at most for the whole import.
const progressStep = 2

func (ir *ImportRunner) run(ctx context.Context, bucket, key, tenant, id string) error {
	log := ir.Log.With("tenant", tenant, "job", id)
	j, err := ir.Jobs.Get(ctx, tenant, id)
	if problem.KindOf(err) == problem.NotFound {
		log.WarnContext(ctx, "upload without a job: ignored")
		return nil
	} else if err != nil {
		return err
	}
	if j.Ended() {
		return nil // a redelivery: the job is over
	}
	var in importInput
	if err := json.Unmarshal(j.Input, &in); err != nil {
		return ir.fail(ctx, tenant, id, []storedProblem{{Code: "bad-job", Message: i18n.Text{EN: "The job cannot be read.", ZH: "無法讀取此工作。"}}})
	}
	if acct, err := ir.Accounts.Account(ctx, tenant, in.Actor.User); err != nil || acct.Status != identity.UserActive {
		if err != nil && problem.KindOf(err) != problem.NotFound {
			return err
		}
		return ir.fail(ctx, tenant, id, []storedProblem{{Code: "uploader-inactive", Message: i18n.Text{
			EN: "The admin who uploaded the file can no longer sign in, so the import was not run.",
			ZH: "上載檔案的管理員已不能登入，因此沒有進行匯入。"}}})
	}
	obj, err := ir.Objects.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	data, err := io.ReadAll(io.LimitReader(obj.Body, MaxImportBytes+1))
	_ = obj.Body.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != in.SHA256 {
		return ir.fail(ctx, tenant, id, []storedProblem{{Code: "file-changed", Message: i18n.Text{
			EN: "The stored file is not the one uploaded.", ZH: "已儲存的檔案與上載的不同。"}}})
	}
	sh, err := staffcsv.Decode(data, staffcsv.Options{Encoding: in.Encoding})
	if err != nil {
		return ir.fail(ctx, tenant, id, []storedProblem{{Code: "bad-job", Message: i18n.Text{EN: err.Error()}}})
	}
	if _, err := ir.Jobs.Progress(ctx, tenant, id, 0, 0); errors.Is(err, job.ErrEnded) {
		return nil
	} else if err != nil {
		return err
	}
	last := -progressStep
	progress := func(done, total int) {
		pct := 100
		if total > 0 {
			pct = done * 100 / total
		}
		if pct-last < progressStep && done < total {
			return
		}
		last = pct
		if _, err := ir.Jobs.Progress(ctx, tenant, id, done, total); err != nil && !errors.Is(err, job.ErrEnded) {
			log.WarnContext(ctx, "import progress not recorded", "error", err.Error())
		}
	}
	pl, res, err := ir.Directory.Import(ctx, in.Actor, sh, directory.ImportOptions{Lang: in.Lang, Job: id, Progress: progress})
	switch problem.KindOf(err) {
	case problem.Forbidden, problem.Invalid:
		var pe *problem.Error
		msg := i18n.Text{EN: "The import was refused.", ZH: "匯入被拒絕。"}
		if errors.As(err, &pe) && !pe.Detail.IsZero() {
			msg = pe.Detail
		}
		return ir.fail(ctx, tenant, id, []storedProblem{{Code: string(problem.CodeOf(err)), Message: msg}})
	}
	if err != nil {
		log.ErrorContext(ctx, "import interrupted; it resumes when the upload is delivered again", "error", err.Error())
		return err
	}
	if len(pl.Problems) > 0 {
		ps := make([]storedProblem, len(pl.Problems))
		for i, p := range pl.Problems {
			ps[i] = storedProblem{Line: p.Line, Column: p.Column, Field: p.Field, Code: p.Code, Message: p.Message}
		}
		return ir.fail(ctx, tenant, id, ps)
	}
	if _, err := ir.Jobs.Succeed(ctx, tenant, id, res); err != nil && !errors.Is(err, job.ErrEnded) {
		return err
	}
	log.InfoContext(ctx, "staff imported", "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged,
		"departmentsCreated", res.DepartmentsCreated, "invitationsFailed", len(res.InvitationsFailed))
	return nil
}

func (ir *ImportRunner) fail(ctx context.Context, tenant, id string, ps []storedProblem) error {
	if _, err := ir.Jobs.Fail(ctx, tenant, id, ps); err != nil && !errors.Is(err, job.ErrEnded) {
		return err
	}
	return nil
}
