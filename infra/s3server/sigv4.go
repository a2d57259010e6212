package s3server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AWS Signature Version 4, as S3 checks it.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html

const (
	sigAlgorithm      = "AWS4-HMAC-SHA256"
	amzDateLayout     = "20060102T150405Z"
	maxPresignExpires = 7 * 24 * 60 * 60 // seconds
	maxClockSkew      = 15 * time.Minute

	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256              = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// authContext is what a verified request carries on to body decoding: the
// signing material needed to check aws-chunked chunk signatures.
type authContext struct {
	accessKey   string
	amzDate     string
	scope       string
	signature   string // the request's (seed) signature
	signingKey  []byte
	payloadHash string // x-amz-content-sha256 (header auth) or UNSIGNED-PAYLOAD
	presigned   bool
}

type verifier struct {
	creds  map[string]string
	region string
	now    func() time.Time
}

// authenticate checks the request's SigV4 signature, either in the
// Authorization header or in the query string (presigned URL).
func (v *verifier) authenticate(r *http.Request) (*authContext, *s3Error) {
	q := r.URL.Query()
	authz := r.Header.Get("Authorization")
	presigned := q.Has("X-Amz-Signature") || q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential")
	switch {
	case authz != "" && presigned:
		return nil, newS3Error(http.StatusBadRequest, "InvalidArgument",
			"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case strings.HasPrefix(authz, sigAlgorithm+" "):
		return v.headerAuth(r, authz)
	case authz != "":
		return nil, newS3Error(http.StatusBadRequest, "InvalidRequest",
			"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	case presigned:
		return v.queryAuth(r, q)
	case q.Has("Signature") || q.Has("AWSAccessKeyId"):
		return nil, newS3Error(http.StatusBadRequest, "InvalidRequest",
			"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	default:
		return nil, errAccessDenied("Access Denied")
	}
}

func malformedHeader(msg string, fields ...xmlField) *s3Error {
	return newS3Error(http.StatusBadRequest, "AuthorizationHeaderMalformed",
		"The authorization header is malformed; "+msg, fields...)
}

func malformedQuery(msg string, fields ...xmlField) *s3Error {
	return newS3Error(http.StatusBadRequest, "AuthorizationQueryParametersError", msg, fields...)
}

func (v *verifier) headerAuth(r *http.Request, authz string) (*authContext, *s3Error) {
	var credential, signedHeaders, signature string
	fields := strings.FieldsFunc(strings.TrimPrefix(authz, sigAlgorithm), func(c rune) bool { return c == ',' || c == ' ' })
	for _, f := range fields {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			return nil, malformedHeader("incorrect format: " + f)
		}
		switch k {
		case "Credential":
			credential = val
		case "SignedHeaders":
			signedHeaders = val
		case "Signature":
			signature = val
		}
	}
	if credential == "" || signedHeaders == "" || signature == "" {
		return nil, malformedHeader("missing Credential, SignedHeaders or Signature.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return nil, errAccessDenied("AWS authentication requires a valid Date or x-amz-date header")
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return nil, newS3Error(http.StatusBadRequest, "InvalidRequest",
			"Missing required header for this request: x-amz-content-sha256")
	}
	if !validPayloadHash(payload) {
		return nil, newS3Error(http.StatusBadRequest, "InvalidArgument",
			"x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
			xmlField{"ArgumentName", "x-amz-content-sha256"}, xmlField{"ArgumentValue", payload})
	}
	ac, err := v.verify(r, credential, signedHeaders, signature, amzDate, payload, false)
	if err != nil {
		return nil, err
	}
	t, _ := time.Parse(amzDateLayout, amzDate) // validated by verify
	now := v.now()
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return nil, newS3Error(http.StatusForbidden, "RequestTimeTooSkewed",
			"The difference between the request time and the current time is too large.",
			xmlField{"RequestTime", amzDate},
			xmlField{"ServerTime", now.UTC().Format(time.RFC3339)},
			xmlField{"MaxAllowedSkewMilliseconds", strconv.FormatInt(maxClockSkew.Milliseconds(), 10)})
	}
	return ac, nil
}

func (v *verifier) queryAuth(r *http.Request, q url.Values) (*authContext, *s3Error) {
	if alg := q.Get("X-Amz-Algorithm"); alg != sigAlgorithm {
		return nil, malformedQuery("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	credential, signedHeaders, signature := q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature")
	amzDate, expiresStr := q.Get("X-Amz-Date"), q.Get("X-Amz-Expires")
	if credential == "" || signedHeaders == "" || signature == "" || amzDate == "" || expiresStr == "" {
		return nil, malformedQuery("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	expires, err := strconv.ParseInt(expiresStr, 10, 64)
	if err != nil || expires < 0 {
		return nil, malformedQuery("X-Amz-Expires should be a number")
	}
	if expires > maxPresignExpires {
		return nil, malformedQuery("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	ac, serr := v.verify(r, credential, signedHeaders, signature, amzDate, unsignedPayload, true)
	if serr != nil {
		return nil, serr
	}
	t, _ := time.Parse(amzDateLayout, amzDate) // validated by verify
	now := v.now()
	if exp := t.Add(time.Duration(expires) * time.Second); now.After(exp) {
		return nil, errAccessDenied("Request has expired",
			xmlField{"X-Amz-Expires", expiresStr},
			xmlField{"Expires", exp.UTC().Format(time.RFC3339)},
			xmlField{"ServerTime", now.UTC().Format(time.RFC3339)})
	}
	if t.Sub(now) > maxClockSkew {
		return nil, errAccessDenied("Request is not valid yet",
			xmlField{"X-Amz-Date", amzDate}, xmlField{"ServerTime", now.UTC().Format(time.RFC3339)})
	}
	// A presigned PUT may still carry a signed x-amz-content-sha256 header;
	// if it does, the body is checked against it.
	if p := r.Header.Get("X-Amz-Content-Sha256"); p != "" && validPayloadHash(p) && containsHeader(signedHeaders, "x-amz-content-sha256") {
		ac.payloadHash = p
	}
	return ac, nil
}

// verify recomputes the signature from the request and compares it with the
// one the client sent.
func (v *verifier) verify(r *http.Request, credential, signedHeaders, signature, amzDate, payload string, presigned bool) (*authContext, *s3Error) {
	malformed := malformedHeader
	if presigned {
		malformed = func(msg string, f ...xmlField) *s3Error { return malformedQuery(msg, f...) }
	}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 {
		return nil, malformed("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	accessKey, date, region, service, terminator := parts[0], parts[1], parts[2], parts[3], parts[4]
	secret, ok := v.creds[accessKey]
	if !ok {
		return nil, newS3Error(http.StatusForbidden, "InvalidAccessKeyId",
			"The AWS Access Key Id you provided does not exist in our records.",
			xmlField{"AWSAccessKeyId", accessKey})
	}
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		return nil, errAccessDenied("AWS authentication requires a valid Date or x-amz-date header")
	}
	if date != t.Format("20060102") {
		return nil, malformed("Invalid credential date \"" + date + "\". This date is not the same as X-Amz-Date: \"" + amzDate[:min(8, len(amzDate))] + "\".")
	}
	if region != v.region {
		return nil, malformed("the region '"+region+"' is wrong; expecting '"+v.region+"'", xmlField{"Region", v.region})
	}
	if service != "s3" || terminator != "aws4_request" {
		return nil, malformed("incorrect service \"" + service + "\" or terminal \"" + terminator + "\". This endpoint uses \"s3\" and \"aws4_request\".")
	}
	names := strings.Split(signedHeaders, ";")
	if !containsHeader(signedHeaders, "host") {
		return nil, malformed("SignedHeaders must include host.")
	}

	scope := date + "/" + region + "/s3/aws4_request"
	key := signingKey(secret, date, region, "s3")
	headers := canonicalHeaders(r, names)
	query := canonicalQuery(r.URL.RawQuery, presigned)

	// The canonical URI is the path as the client encoded it; clients that
	// send an unusual encoding are also tried with S3's own encoding.
	candidates := []string{r.URL.EscapedPath()}
	if alt := awsEscape(r.URL.Path, false); alt != candidates[0] {
		candidates = append(candidates, alt)
	}
	var first struct{ creq, sts string }
	for i, uri := range candidates {
		if uri == "" {
			uri = "/"
		}
		creq := strings.Join([]string{r.Method, uri, query, headers, signedHeaders, payload}, "\n")
		sts := stringToSign(amzDate, scope, creq)
		want := hex.EncodeToString(hmacSHA256(key, sts))
		if hmac.Equal([]byte(want), []byte(strings.ToLower(signature))) {
			return &authContext{
				accessKey: accessKey, amzDate: amzDate, scope: scope, signature: want,
				signingKey: key, payloadHash: payload, presigned: presigned,
			}, nil
		}
		if i == 0 {
			first.creq, first.sts = creq, sts
		}
	}
	return nil, newS3Error(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
		xmlField{"AWSAccessKeyId", accessKey},
		xmlField{"StringToSign", first.sts},
		xmlField{"SignatureProvided", signature},
		xmlField{"CanonicalRequest", first.creq})
}

func validPayloadHash(p string) bool {
	switch p {
	case unsignedPayload, streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
		return true
	}
	return isHexSHA256(p)
}

func isHexSHA256(p string) bool {
	if len(p) != 64 {
		return false
	}
	_, err := hex.DecodeString(p)
	return err == nil
}

func containsHeader(signedHeaders, name string) bool {
	for _, h := range strings.Split(signedHeaders, ";") {
		if h == name {
			return true
		}
	}
	return false
}

func stringToSign(amzDate, scope, canonicalRequest string) string {
	h := sha256.Sum256([]byte(canonicalRequest))
	return sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalHeaders builds the CanonicalHeaders block for the signed header
// names, which arrive lower-case and sorted.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, name := range names {
		var values []string
		switch name {
		case "host":
			values = []string{r.Host}
		case "content-length":
			values = r.Header.Values("Content-Length")
			if len(values) == 0 && r.ContentLength >= 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		case "transfer-encoding":
			values = r.TransferEncoding
		default:
			values = r.Header.Values(name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.Join(strings.Fields(v), " "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalQuery builds the CanonicalQueryString from the raw query, decoded
// the way the rest of the server reads it, then encoded as SigV4 requires.
func canonicalQuery(raw string, presigned bool) string {
	type pair struct{ k, v string }
	var pairs []pair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			dk, dv = k, v // undecodable: sign it as sent; it will not match
		}
		if presigned && dk == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{awsEscape(dk, true), awsEscape(dv, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// awsEscape percent-encodes every byte except the unreserved characters
// (and '/' unless encodeSlash), as SigV4's UriEncode does.
func awsEscape(s string, encodeSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&15])
		}
	}
	return b.String()
}
