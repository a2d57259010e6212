package runner

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// AWS Signature Version 4 for the JSON APIs the runner answers (SSM,
// EventBridge, SES): the request is signed again with the runner's
// credentials over the headers the client signed and the body's SHA-256,
// and the signatures must match, as AWS checks them. (S3 has its own,
// fuller check in infra/s3server: presigned URLs, chunked uploads.)

const (
	sigAlgorithm  = "AWS4-HMAC-SHA256"
	amzDateLayout = "20060102T150405Z"
	maxClockSkew  = 15 * time.Minute
	maxSignedBody = 6 << 20
)

// sigFault is why a request's signature was refused.
type sigFault struct {
	status  int
	typ     string
	message string
}

func (f *sigFault) Error() string { return f.typ + ": " + f.message }

func denied(typ, format string, args ...any) *sigFault {
	return &sigFault{http.StatusForbidden, typ, fmt.Sprintf(format, args...)}
}

// verifySigV4 checks req's SigV4 Authorization header for service in
// region, signed with the runner's access key at most 15 minutes from
// now. It reads the body and puts it back for the handler.
func verifySigV4(req *http.Request, service, region string, now time.Time) *sigFault {
	rest, ok := strings.CutPrefix(req.Header.Get("Authorization"), sigAlgorithm+" ")
	if !ok {
		return denied("MissingAuthenticationTokenException", "Request is missing a SigV4 Authorization header")
	}
	var credential, signedHeaders, signature string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || signedHeaders == "" || signature == "" {
		return denied("IncompleteSignatureException", "Authorization header requires Credential of the form KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders and Signature")
	}
	switch {
	case scope[0] != AccessKeyID:
		return denied("UnrecognizedClientException", "The security token included in the request is invalid.")
	case scope[2] != region:
		return denied("InvalidSignatureException", "Credential should be scoped to a valid region, not '%s'.", scope[2])
	case scope[3] != service:
		return denied("InvalidSignatureException", "Credential should be scoped to correct service: '%s'.", service)
	}
	amzDate := req.Header.Get("X-Amz-Date")
	at, err := time.Parse(amzDateLayout, amzDate)
	if err != nil || !strings.HasPrefix(amzDate, scope[1]) {
		return denied("IncompleteSignatureException", "X-Amz-Date is missing, malformed or not the Credential's date")
	}
	if d := now.Sub(at); d > maxClockSkew || d < -maxClockSkew {
		return denied("InvalidSignatureException", "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.UTC().Add(-maxClockSkew).Format(amzDateLayout), now.UTC().Format(amzDateLayout))
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxSignedBody+1))
	if err != nil || len(body) > maxSignedBody {
		return &sigFault{http.StatusRequestEntityTooLarge, "ValidationException", "the request body is too large or unreadable"}
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)

	// The same request as the client signed it: only the headers it signed.
	again, err := http.NewRequestWithContext(req.Context(), req.Method, "http://"+req.Host+req.URL.RequestURI(), nil)
	if err != nil {
		return denied("InvalidSignatureException", "the request URI cannot be signed")
	}
	for _, h := range strings.Split(signedHeaders, ";") {
		switch h {
		case "host":
		case "content-length":
			again.ContentLength = int64(len(body))
		default:
			again.Header[textproto.CanonicalMIMEHeaderKey(h)] = req.Header.Values(h)
		}
	}
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, again, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		return denied("InvalidSignatureException", "the request cannot be signed again: %v", err)
	}
	_, want, _ := strings.Cut(again.Header.Get("Authorization"), "Signature=")
	if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) != 1 {
		return denied("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}
