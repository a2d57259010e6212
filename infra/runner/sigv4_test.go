package runner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SSM and EventBridge check SigV4 like SES: only the runner's key, for the
// right service and region, signed within 15 minutes, over the body sent.
func TestSigV4_TheJSONAPIsRefuseWhatAWSWouldRefuse(t *testing.T) {
	f := start(t, "")
	calls := []struct {
		service, target, body string
	}{
		{"ssm", "AmazonSSM.GetParameter", `{"Name":"/nope"}`},
		{"events", "AWSEvents.PutEvents", `{"Entries":[]}`},
	}
	send := func(service, target, body, key, region string, at time.Time, tamper bool) (int, string) {
		req, err := http.NewRequest(http.MethodPost, f.r.AWSEndpoint()+"/", bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		if key != "" {
			sum := sha256.Sum256([]byte(body))
			require.NoError(t, v4.NewSigner().SignHTTP(req.Context(), aws.Credentials{AccessKeyID: key, SecretAccessKey: SecretAccessKey},
				req, hex.EncodeToString(sum[:]), service, region, at))
		}
		if tamper {
			b := []byte(body + " ")
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype")
	}
	now := time.Now()
	for _, c := range calls {
		cases := []struct {
			name, key, region, service string
			at                         time.Time
			tamper                     bool
			typ                        string
		}{
			{"unsigned", "", "ap-east-1", c.service, now, false, "MissingAuthenticationTokenException"},
			{"another key", "AKIAOTHER", "ap-east-1", c.service, now, false, "UnrecognizedClientException"},
			{"another region", AccessKeyID, "us-east-1", c.service, now, false, "InvalidSignatureException"},
			{"another service", AccessKeyID, "ap-east-1", "s3", now, false, "InvalidSignatureException"},
			{"signed 20 minutes ago", AccessKeyID, "ap-east-1", c.service, now.Add(-20 * time.Minute), false, "InvalidSignatureException"},
			{"body changed after signing", AccessKeyID, "ap-east-1", c.service, now, true, "InvalidSignatureException"},
		}
		for _, tc := range cases {
			t.Run(c.service+"/"+tc.name, func(t *testing.T) {
				status, typ := send(tc.service, c.target, c.body, tc.key, tc.region, tc.at, tc.tamper)
				assert.Equal(t, http.StatusForbidden, status)
				assert.Equal(t, tc.typ, typ)
			})
		}
		t.Run(c.service+"/control", func(t *testing.T) {
			status, typ := send(c.service, c.target, c.body, AccessKeyID, "ap-east-1", now, false)
			assert.NotEqual(t, http.StatusForbidden, status, "a well-signed call passes the check (%s)", typ)
		})
	}
}
