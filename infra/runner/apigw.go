package runner

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lantau-hq/lantau/infra/jwtauth"
	"github.com/lantau-hq/lantau/infra/template"
)

// maxPayload is Lambda's synchronous invocation payload limit.
const maxPayload = 6 * 1024 * 1024

// route is one HttpApi event: a method and path served by one function.
type route struct {
	key        string // "GET /v1/items/{id}", as API Gateway's routeKey
	method     string // "" for ANY
	path       string
	params     []string // path parameter names, "proxy" for {proxy+}
	fn         *Function
	authorizer *jwtauth.Authorizer // nil when Auth is NONE
	scopes     []string
}

type apiServer struct {
	r      *Runner
	mux    *http.ServeMux
	routes []*route
	cors   *cors // of the HTTP API, if it has a CorsConfiguration
}

var pathParam = regexp.MustCompile(`\{([A-Za-z0-9_.-]+)(\+?)\}`)

func newAPIServer(r *Runner) (*apiServer, error) {
	s := &apiServer{r: r, mux: http.NewServeMux()}
	authorizers := map[string]map[string]*jwtauth.Authorizer{} // api -> name -> authorizer
	defaults := map[string]string{}
	for _, id := range sortedKeys(r.tmpl.Resources) {
		res := r.tmpl.Resources[id]
		if res.Type != "AWS::Serverless::HttpApi" {
			continue
		}
		authorizers[id] = map[string]*jwtauth.Authorizer{}
		if cc, ok := res.Properties["CorsConfiguration"]; ok {
			c, err := readCORS(r, id, cc)
			if err != nil {
				return nil, err
			}
			s.cors = c
		}
		auth, _ := res.Properties["Auth"].(map[string]any)
		if auth == nil {
			continue
		}
		for _, k := range sortedKeys(auth) {
			if k != "Authorizers" && k != "DefaultAuthorizer" && k != "EnableIamAuthorizer" {
				return nil, &template.Error{Resource: id, Property: "Auth." + k, Reason: "unknown HttpApi Auth property"}
			}
		}
		if d, ok := auth["DefaultAuthorizer"]; ok {
			name, err := r.res.String(d, id, "Auth.DefaultAuthorizer")
			if err != nil {
				return nil, err
			}
			defaults[id] = name
		}
		defs, _ := auth["Authorizers"].(map[string]any)
		for _, name := range sortedKeys(defs) {
			a, err := s.buildAuthorizer(id, name, defs[name])
			if err != nil {
				return nil, err
			}
			authorizers[id][name] = a
		}
		if d := defaults[id]; d != "" && authorizers[id][d] == nil {
			return nil, &template.Error{Resource: id, Property: "Auth.DefaultAuthorizer", Reason: fmt.Sprintf("no authorizer named %q", d)}
		}
	}
	for _, fn := range r.functions {
		for _, ev := range fn.Spec.Events {
			if ev.Type != "HttpApi" {
				continue
			}
			where := "Events." + ev.Name + ".Properties"
			api := "ServerlessHttpApi"
			if v, ok := ev.Properties["ApiId"]; ok {
				m, _ := v.(map[string]any)
				ref, _ := m["Ref"].(string)
				if _, known := authorizers[ref]; !known {
					return nil, &template.Error{Resource: fn.Spec.LogicalID, Property: where + ".ApiId", Reason: "must be !Ref of an AWS::Serverless::HttpApi in this template"}
				}
				api = ref
			}
			method, err := r.res.String(ev.Properties["Method"], fn.Spec.LogicalID, where+".Method")
			if err != nil {
				return nil, err
			}
			path, err := r.res.String(ev.Properties["Path"], fn.Spec.LogicalID, where+".Path")
			if err != nil {
				return nil, err
			}
			rt := &route{fn: fn, method: strings.ToUpper(method), path: path}
			if rt.method == "ANY" || rt.method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
				rt.method = ""
			}
			rt.key = strings.ToUpper(method) + " " + path
			authName := defaults[api]
			if am, ok := ev.Properties["Auth"].(map[string]any); ok {
				if v, ok := am["Authorizer"]; ok {
					if authName, err = r.res.String(v, fn.Spec.LogicalID, where+".Auth.Authorizer"); err != nil {
						return nil, err
					}
				}
				if v, ok := am["AuthorizationScopes"]; ok {
					sv, err := r.res.Value(v, fn.Spec.LogicalID, where+".Auth.AuthorizationScopes")
					if err != nil {
						return nil, err
					}
					list, _ := sv.([]any)
					for _, sc := range list {
						rt.scopes = append(rt.scopes, fmt.Sprint(sc))
					}
				}
			}
			if authName != "" && authName != "NONE" {
				rt.authorizer = authorizers[api][authName]
				if rt.authorizer == nil {
					return nil, &template.Error{Resource: fn.Spec.LogicalID, Property: where + ".Auth.Authorizer", Reason: fmt.Sprintf("no authorizer named %q on %s", authName, api)}
				}
			}
			pattern, params, err := muxPattern(rt.method, path)
			if err != nil {
				return nil, &template.Error{Resource: fn.Spec.LogicalID, Property: where + ".Path", Reason: err.Error()}
			}
			rt.params = params
			if err := register(s.mux, pattern, s.handler(rt)); err != nil {
				return nil, &template.Error{Resource: fn.Spec.LogicalID, Property: where + ".Path", Reason: err.Error()}
			}
			s.routes = append(s.routes, rt)
		}
	}
	return s, nil
}

func (s *apiServer) buildAuthorizer(api, name string, def any) (*jwtauth.Authorizer, error) {
	where := "Auth.Authorizers." + name
	m, _ := def.(map[string]any)
	for _, k := range sortedKeys(m) {
		if k != "IdentitySource" && k != "JwtConfiguration" {
			return nil, &template.Error{Resource: api, Property: where + "." + k, Reason: "only JWT authorizers (IdentitySource, JwtConfiguration) are supported"}
		}
	}
	jc, _ := m["JwtConfiguration"].(map[string]any)
	if jc == nil {
		return nil, &template.Error{Resource: api, Property: where + ".JwtConfiguration", Reason: "a JWT authorizer needs JwtConfiguration"}
	}
	cfg := jwtauth.Config{HTTPClient: s.r.cfg.HTTPClient, Now: s.r.cfg.Now}
	for _, k := range sortedKeys(jc) {
		switch k {
		case "issuer":
			iss, err := s.r.res.String(jc[k], api, where+".JwtConfiguration.issuer")
			if err != nil {
				return nil, err
			}
			cfg.Issuer = iss
		case "audience":
			v, err := s.r.res.Value(jc[k], api, where+".JwtConfiguration.audience")
			if err != nil {
				return nil, err
			}
			list, ok := v.([]any)
			if !ok {
				return nil, &template.Error{Resource: api, Property: where + ".JwtConfiguration.audience", Reason: "must be a list"}
			}
			for _, a := range list {
				cfg.Audience = append(cfg.Audience, fmt.Sprint(a))
			}
		default:
			return nil, &template.Error{Resource: api, Property: where + ".JwtConfiguration." + k, Reason: "unknown JwtConfiguration property (issuer, audience)"}
		}
	}
	if src, ok := m["IdentitySource"]; ok {
		s, err := s.r.res.String(src, api, where+".IdentitySource")
		if err != nil {
			return nil, err
		}
		cfg.IdentitySource = s
	}
	a, err := jwtauth.New(cfg)
	if err != nil {
		return nil, &template.Error{Resource: api, Property: where, Reason: err.Error()}
	}
	return a, nil
}

// muxPattern turns an API Gateway route into a net/http ServeMux pattern;
// ServeMux's most-specific-wins precedence matches API Gateway's.
func muxPattern(method, path string) (string, []string, error) {
	var params []string
	segments := strings.Split(path, "/")
	for i, seg := range segments {
		m := pathParam.FindStringSubmatch(seg)
		if m == nil {
			if strings.ContainsAny(seg, "{}") {
				return "", nil, fmt.Errorf("path segment %q: a parameter must be a whole segment like {id}", seg)
			}
			continue
		}
		if m[0] != seg {
			return "", nil, fmt.Errorf("path segment %q: a parameter must be a whole segment like {id}", seg)
		}
		name := m[1]
		params = append(params, name)
		if m[2] == "+" {
			if i != len(segments)-1 {
				return "", nil, fmt.Errorf("a greedy parameter {%s+} must be the last segment", name)
			}
			segments[i] = "{" + muxName(name) + "...}"
		} else {
			segments[i] = "{" + muxName(name) + "}"
		}
	}
	p := strings.Join(segments, "/")
	if p == "/" || strings.HasSuffix(p, "/") {
		p += "{$}"
	}
	if method != "" {
		p = method + " " + p
	}
	return p, params, nil
}

// muxName makes a parameter name acceptable to ServeMux (Go identifiers only).
func muxName(name string) string {
	return strings.NewReplacer("-", "_h_", ".", "_d_").Replace(name)
}

func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("route %q conflicts with another route: %v", pattern, p)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if s.cors != nil {
		if s.cors.preflight(w, req) {
			return
		}
		s.cors.decorate(w.Header(), req.Header.Get("Origin"))
	}
	if _, pattern := s.mux.Handler(req); pattern == "" {
		gatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	s.mux.ServeHTTP(w, req)
}

func gatewayError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Apigw-Requestid", newID()[:16])
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, message)
}

func (s *apiServer) handler(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		requestID := newID()
		var claims *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		if rt.authorizer != nil {
			res, err := rt.authorizer.Authorize(req.Context(), req, rt.scopes)
			if err != nil {
				rt.authorizer.Deny(w, err)
				s.accessLog(req, rt, requestID, 0, start, "denied")
				return
			}
			claims = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: res.Claims, Scopes: res.Scopes},
			}
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, maxPayload+1))
		if err != nil {
			gatewayError(w, http.StatusBadRequest, "Bad Request")
			return
		}
		if len(body) > maxPayload {
			gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		event := s.toEvent(req, rt, requestID, body, claims, start)
		payload, err := json.Marshal(event)
		if err != nil || len(payload) > maxPayload {
			gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		out, err := rt.fn.Invoke(req.Context(), requestID, payload)
		status := 0
		switch {
		case err != nil:
			status = http.StatusInternalServerError
			if fe, ok := err.(*FunctionError); ok && (fe.Panic || fe.Type == "Sandbox.Timedout") {
				status = http.StatusBadGateway
				if fe.Type == "Sandbox.Timedout" {
					status = http.StatusServiceUnavailable
				}
			}
			w.Header().Set("Apigw-Requestid", requestID)
			gatewayError(w, status, map[int]string{500: "Internal Server Error", 502: "Internal Server Error", 503: "Service Unavailable"}[status])
		default:
			status = writeResponse(w, out, requestID)
		}
		s.accessLog(req, rt, requestID, status, start, "")
	})
}

func (s *apiServer) accessLog(req *http.Request, rt *route, requestID string, status int, start time.Time, note string) {
	if !s.r.log.Enabled(req.Context(), -4) { // slog.LevelDebug
		return
	}
	s.r.log.Debug("request", "route", rt.key, "path", req.URL.Path, "status", status, "request_id", requestID,
		"ms", float64(time.Since(start).Microseconds())/1000, "note", note)
}

// toEvent builds the API Gateway HTTP API (payload 2.0) event for a request.
func (s *apiServer) toEvent(req *http.Request, rt *route, requestID string, body []byte,
	auth *events.APIGatewayV2HTTPRequestContextAuthorizerDescription, now time.Time) *events.APIGatewayV2HTTPRequest {
	headers := make(map[string]string, len(req.Header)+1)
	var cookies []string
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	headers["host"] = req.Host
	sourceIP, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		sourceIP = req.RemoteAddr
	}
	headers["x-forwarded-for"] = sourceIP
	headers["x-forwarded-proto"] = "http"
	var query map[string]string
	if req.URL.RawQuery != "" {
		query = map[string]string{}
		for k, vs := range req.URL.Query() {
			query[k] = strings.Join(vs, ",")
		}
	}
	var pathParams map[string]string
	if len(rt.params) > 0 {
		pathParams = make(map[string]string, len(rt.params))
		for _, p := range rt.params {
			pathParams[p] = req.PathValue(muxName(p))
		}
	}
	ev := &events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.key,
		RawPath:               req.URL.EscapedPath(),
		RawQueryString:        req.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        pathParams,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.key,
			AccountID:    AccountID,
			Stage:        "$default",
			RequestID:    requestID,
			Authorizer:   auth,
			APIID:        "local",
			DomainName:   req.Host,
			DomainPrefix: strings.Split(req.Host, ".")[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    req.Method,
				Path:      req.URL.Path,
				Protocol:  req.Proto,
				SourceIP:  sourceIP,
				UserAgent: req.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isTextual(req.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isTextual says whether API Gateway passes a body of this type as text
// rather than base64.
func isTextual(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/xml", mt == "application/javascript",
		mt == "application/x-www-form-urlencoded", mt == "application/graphql",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}

// writeResponse turns a function's output into the HTTP response, as API
// Gateway does for payload format 2.0 (including its guess when the output
// is not a response object).
func writeResponse(w http.ResponseWriter, out []byte, requestID string) int {
	w.Header().Set("Apigw-Requestid", requestID)
	var resp gatewayResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == nil {
		// Not a response object: API Gateway answers 200 with the output as JSON.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return http.StatusOK
	}
	status := *resp.StatusCode
	if status < 100 || status > 599 {
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return http.StatusInternalServerError
		}
		body = b
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", http.DetectContentType(body))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// gatewayResponse is events.APIGatewayV2HTTPResponse with the status code
// optional, so one decode tells a response object from other output.
type gatewayResponse struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	Cookies           []string            `json:"cookies"`
}
