package runner

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// parameterStore answers the part of AWS Systems Manager Parameter Store
// that functions use (PutParameter, GetParameter, GetParameters,
// GetParametersByPath, DeleteParameter), so that code which keeps secrets
// there (signing keys) runs unchanged on a laptop. Parameters live in one
// JSON file under the data directory, written atomically on each change.
// SecureString values are kept as given locally; without WithDecryption
// they are answered as an opaque token, as AWS answers ciphertext.
type parameterStore struct {
	r    *Runner
	path string
	mu   sync.Mutex
	all  map[string]*parameter
}

type parameter struct {
	Name         string    `json:"name"`
	Type         string    `json:"type"` // String, StringList, SecureString
	Value        string    `json:"value"`
	Description  string    `json:"description,omitempty"`
	Version      int64     `json:"version"`
	LastModified time.Time `json:"lastModified"`
}

var parameterName = regexp.MustCompile(`^/?[A-Za-z0-9_.\-/]+$`)

func newParameterStore(r *Runner) (*parameterStore, error) {
	p := &parameterStore{r: r, path: r.dataPath("ssm-parameters.json"), all: map[string]*parameter{}}
	b, err := os.ReadFile(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("parameter store: %w", err)
	}
	if err := json.Unmarshal(b, &p.all); err != nil {
		return nil, fmt.Errorf("parameter store %s: %w", p.path, err)
	}
	return p, nil
}

func (p *parameterStore) save() error {
	b, err := json.Marshal(p.all)
	if err != nil {
		return err
	}
	return writeFileSync(p.path, b)
}

func (p *parameterStore) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AmazonSSM.")
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		awsError(w, http.StatusBadRequest, "ValidationException", "could not read the request")
		return
	}
	var in struct {
		Name           string   `json:"Name"`
		Names          []string `json:"Names"`
		Value          string   `json:"Value"`
		Type           string   `json:"Type"`
		Description    string   `json:"Description"`
		Overwrite      bool     `json:"Overwrite"`
		WithDecryption bool     `json:"WithDecryption"`
		Path           string   `json:"Path"`
		Recursive      bool     `json:"Recursive"`
		MaxResults     int      `json:"MaxResults"`
		NextToken      string   `json:"NextToken"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		awsError(w, http.StatusBadRequest, "SerializationException", "request body is not valid JSON")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out any
	switch op {
	case "PutParameter":
		out, err = p.put(in.Name, in.Value, in.Type, in.Description, in.Overwrite)
	case "GetParameter":
		par, ok := p.all[in.Name]
		if !ok {
			err = ssmErr{"ParameterNotFound", ""}
			break
		}
		out = map[string]any{"Parameter": p.view(par, in.WithDecryption)}
	case "GetParameters":
		found, invalid := []any{}, []string{}
		for _, n := range in.Names {
			if par, ok := p.all[n]; ok {
				found = append(found, p.view(par, in.WithDecryption))
			} else {
				invalid = append(invalid, n)
			}
		}
		out = map[string]any{"Parameters": found, "InvalidParameters": invalid}
	case "GetParametersByPath":
		out, err = p.byPath(in.Path, in.Recursive, in.WithDecryption, in.MaxResults, in.NextToken)
	case "DeleteParameter":
		if _, ok := p.all[in.Name]; !ok {
			err = ssmErr{"ParameterNotFound", ""}
			break
		}
		delete(p.all, in.Name)
		if err = p.save(); err == nil {
			out = map[string]any{}
		}
	default:
		awsError(w, http.StatusBadRequest, "UnknownOperationException", "the local runner does not answer AmazonSSM."+op)
		return
	}
	var se ssmErr
	switch {
	case errors.As(err, &se):
		awsError(w, http.StatusBadRequest, se.typ, se.msg)
	case err != nil:
		awsError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}
}

type ssmErr struct{ typ, msg string }

func (e ssmErr) Error() string { return e.typ + ": " + e.msg }

func (p *parameterStore) put(name, value, typ, desc string, overwrite bool) (any, error) {
	if len(name) > 1011 || !parameterName.MatchString(name) || strings.Contains(name, "//") || strings.HasPrefix(strings.ToLower(strings.TrimPrefix(name, "/")), "aws") {
		return nil, ssmErr{"ValidationException", "Parameter name is not valid: " + name}
	}
	if value == "" || len(value) > 8192 {
		return nil, ssmErr{"ValidationException", "Value must be 1 to 8192 characters (Advanced tier not emulated)"}
	}
	old, exists := p.all[name]
	if typ == "" && exists {
		typ = old.Type
	}
	if !slices.Contains([]string{"String", "StringList", "SecureString"}, typ) {
		return nil, ssmErr{"ValidationException", "Type must be String, StringList or SecureString"}
	}
	if exists && !overwrite {
		return nil, ssmErr{"ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."}
	}
	version := int64(1)
	if exists {
		version = old.Version + 1
	}
	p.all[name] = &parameter{Name: name, Type: typ, Value: value, Description: desc, Version: version, LastModified: time.Now().UTC()}
	if err := p.save(); err != nil {
		return nil, err
	}
	return map[string]any{"Version": version, "Tier": "Standard"}, nil
}

func (p *parameterStore) byPath(path string, recursive, decrypt bool, max int, next string) (any, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, ssmErr{"ValidationException", "Path must start with /"}
	}
	if max <= 0 || max > 10 {
		max = 10
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	var names []string
	for n := range p.all {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok || (!recursive && strings.Contains(rest, "/")) {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	start := 0
	if next != "" {
		i, err := strconv.Atoi(next)
		if err != nil || i < 0 || i > len(names) {
			return nil, ssmErr{"InvalidNextToken", "The NextToken is not valid."}
		}
		start = i
	}
	end := min(start+max, len(names))
	params := []any{}
	for _, n := range names[start:end] {
		params = append(params, p.view(p.all[n], decrypt))
	}
	out := map[string]any{"Parameters": params}
	if end < len(names) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

func (p *parameterStore) view(par *parameter, decrypt bool) map[string]any {
	value := par.Value
	if par.Type == "SecureString" && !decrypt {
		sum := sha256.Sum256([]byte(par.Name + "\x00" + par.Value))
		value = "AQICAHlocal" + base64.StdEncoding.EncodeToString(sum[:])
	}
	return map[string]any{
		"Name": par.Name, "Type": par.Type, "Value": value, "Version": par.Version, "DataType": "text",
		"LastModifiedDate": float64(par.LastModified.UnixMilli()) / 1000,
		"ARN":              fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", p.r.cfg.Region, AccountID, strings.TrimPrefix(par.Name, "/")),
	}
}
