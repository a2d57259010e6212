package s3server

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// Request bodies are decoded and verified here, before gofakes3 sees them:
//
//   - aws-chunked bodies (x-amz-content-sha256: STREAMING-...), which the SDK
//     sends when a checksum travels in a trailer, are unwrapped, with chunk
//     and trailer signatures checked when the stream is signed;
//   - a literal x-amz-content-sha256 is checked against the body;
//   - x-amz-checksum-* headers and trailers are checked against the body;
//   - bodies of unknown length (Transfer-Encoding: chunked) are spooled to a
//     temporary file, since gofakes3 needs a Content-Length.
//
// A failed check stops the write (the store never commits a body whose read
// ended in an error) and the exact S3 error is recorded in bodyState, which
// the response writer then answers with instead of gofakes3's generic one.

const maxSignedChunk = 16 << 20 // a signed chunk is buffered whole to check its signature

type bodyState struct {
	err *s3Error
}

// fail records the first body error and returns an error that aborts the
// write inside gofakes3 and the store.
func (s *bodyState) fail(e *s3Error) error {
	if s.err == nil {
		s.err = e
	}
	return gofakes3.ErrorMessage(gofakes3.ErrorCode(e.code), e.message)
}

var checksumAlgorithms = []string{"crc32", "crc32c", "crc64nvme", "sha1", "sha256"}

var (
	crc32cTable    = crc32.MakeTable(crc32.Castagnoli)
	crc64nvmeTable = crc64.MakeTable(0x9a6c9329ac4bc9b5) // CRC-64/NVME, reflected
)

func newChecksum(alg string) hash.Hash {
	switch alg {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(crc32cTable)
	case "crc64nvme":
		return crc64.New(crc64nvmeTable)
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

func errBadChecksum(alg string) *s3Error {
	return newS3Error(http.StatusBadRequest, "BadDigest",
		"The "+strings.ToUpper(alg)+" you specified did not match the calculated checksum.")
}

func errIncompleteBody() *s3Error {
	return newS3Error(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
}

// prepareBody replaces r.Body with the decoded, verifying body and fixes the
// headers gofakes3 reads (Content-Length, x-amz-content-sha256,
// Content-Encoding). The returned cleanup must be called after the request.
func prepareBody(r *http.Request, ac *authContext, state *bodyState, tmpDir string) (cleanup func(), _ *s3Error) {
	cleanup = func() {}
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		return cleanup, nil
	}
	q := r.URL.Query()
	var rd io.Reader = r.Body
	length := r.ContentLength
	mode := ac.payloadHash

	if strings.HasPrefix(mode, "STREAMING-") {
		dec := &chunkDecoder{
			br:      bufio.NewReaderSize(r.Body, 64<<10),
			signed:  mode == streamingSigned || mode == streamingSignedTrailer,
			trailer: mode == streamingSignedTrailer || mode == streamingUnsignedTrailer,
			ac:      ac,
			prevSig: ac.signature,
			state:   state,
		}
		if name := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Amz-Trailer"))); name != "" {
			alg, ok := strings.CutPrefix(name, "x-amz-checksum-")
			if dec.sum = newChecksum(alg); !ok || dec.sum == nil {
				return cleanup, newS3Error(http.StatusBadRequest, "InvalidRequest", "The value specified in the x-amz-trailer header is not supported")
			}
			dec.trailerName, dec.alg = name, alg
		}
		rd = dec
		length = -1
		if dl := r.Header.Get("X-Amz-Decoded-Content-Length"); dl != "" {
			n, err := strconv.ParseInt(dl, 10, 64)
			if err != nil || n < 0 {
				return cleanup, newS3Error(http.StatusBadRequest, "InvalidArgument", "x-amz-decoded-content-length is not a valid length")
			}
			length = n
		}
		r.Header.Del("X-Amz-Decoded-Content-Length")
		r.Header.Del("X-Amz-Trailer")
		r.Header.Set("X-Amz-Content-Sha256", unsignedPayload) // stop gofakes3's own chunk decoder
		var encs []string
		for _, e := range strings.Split(r.Header.Get("Content-Encoding"), ",") {
			if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
				encs = append(encs, e)
			}
		}
		if len(encs) > 0 {
			r.Header.Set("Content-Encoding", strings.Join(encs, ","))
		} else {
			r.Header.Del("Content-Encoding")
		}
	} else if isHexSHA256(mode) {
		want, _ := hex.DecodeString(mode)
		rd = &verifyReader{r: rd, h: sha256.New(), want: want, state: state, onFail: func() *s3Error {
			return newS3Error(http.StatusBadRequest, "XAmzContentSHA256Mismatch",
				"The provided 'x-amz-content-sha256' header does not match what was computed.",
				xmlField{"ClientComputedContentSHA256", mode})
		}}
	}

	// Checksum headers describe the body, except on CompleteMultipartUpload
	// where they describe the assembled object.
	if !(r.Method == http.MethodPost && q.Has("uploadId")) {
		for _, alg := range checksumAlgorithms {
			v := r.Header.Get("X-Amz-Checksum-" + alg)
			if v == "" {
				continue
			}
			want, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return cleanup, newS3Error(http.StatusBadRequest, "InvalidRequest", "Value for x-amz-checksum-"+alg+" header is invalid.")
			}
			alg := alg
			rd = &verifyReader{r: rd, h: newChecksum(alg), want: want, state: state, onFail: func() *s3Error { return errBadChecksum(alg) }}
		}
	}

	if length < 0 {
		// gofakes3 needs the length up front: spool to disk.
		f, err := os.CreateTemp(tmpDir, "body-*")
		if err != nil {
			return cleanup, errInternal()
		}
		cleanup = func() { f.Close(); os.Remove(f.Name()) }
		n, err := io.Copy(f, rd)
		if err != nil {
			if state.err != nil {
				return cleanup, state.err
			}
			return cleanup, errIncompleteBody()
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return cleanup, errInternal()
		}
		rd, length = f, n
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{rd, r.Body}
	r.ContentLength = length
	r.Header.Set("Content-Length", strconv.FormatInt(length, 10))
	r.TransferEncoding = nil
	return cleanup, nil
}

// verifyReader hashes what passes through and, at EOF, compares with want.
type verifyReader struct {
	r      io.Reader
	h      hash.Hash
	want   []byte
	state  *bodyState
	onFail func() *s3Error
	done   bool
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && !v.done {
		v.done = true
		if !bytes.Equal(v.h.Sum(nil), v.want) {
			return n, v.state.fail(v.onFail())
		}
	}
	return n, err
}

// chunkDecoder decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n [trailer lines\r\n] \r\n
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
type chunkDecoder struct {
	br      *bufio.Reader
	signed  bool
	trailer bool
	ac      *authContext
	prevSig string
	state   *bodyState

	sum         hash.Hash // checksum named by x-amz-trailer, if any
	alg         string
	trailerName string

	pending   []byte // signed mode: verified chunk data not yet returned
	remaining int64  // unsigned mode: bytes left in the current chunk
	started   bool
	done      bool
	err       error
}

func (d *chunkDecoder) Read(p []byte) (int, error) {
	for {
		if d.err != nil {
			return 0, d.err
		}
		if len(d.pending) > 0 {
			n := copy(p, d.pending)
			d.pending = d.pending[n:]
			return n, nil
		}
		if d.remaining > 0 {
			if int64(len(p)) > d.remaining {
				p = p[:d.remaining]
			}
			n, err := d.br.Read(p)
			d.remaining -= int64(n)
			if d.sum != nil {
				d.sum.Write(p[:n])
			}
			if err != nil && (err != io.EOF || d.remaining > 0) {
				d.err = d.state.fail(errIncompleteBody())
			}
			return n, nil
		}
		if d.done {
			return 0, io.EOF
		}
		if err := d.nextChunk(); err != nil {
			d.err = d.state.fail(err)
		}
	}
}

func (d *chunkDecoder) readLine() (string, error) {
	line, err := d.br.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

func errChunk(msg string) *s3Error {
	return newS3Error(http.StatusBadRequest, "IncompleteBody", "Malformed aws-chunked body: "+msg)
}

func (d *chunkDecoder) chunkSignatureMismatch() *s3Error {
	return newS3Error(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
		xmlField{"AWSAccessKeyId", d.ac.accessKey})
}

func (d *chunkDecoder) nextChunk() *s3Error {
	if d.started {
		if line, err := d.readLine(); err != nil || line != "" {
			return errChunk("missing CRLF after chunk data")
		}
	}
	d.started = true
	header, err := d.readLine()
	if err != nil {
		return errIncompleteBody()
	}
	sizeStr, ext, _ := strings.Cut(header, ";")
	size, perr := strconv.ParseInt(strings.TrimSpace(sizeStr), 16, 64)
	if perr != nil || size < 0 {
		return errChunk("invalid chunk size")
	}
	var sig string
	if d.signed {
		var ok bool
		if sig, ok = strings.CutPrefix(strings.TrimSpace(ext), "chunk-signature="); !ok {
			return errChunk("missing chunk-signature")
		}
		if size > maxSignedChunk {
			return errChunk("chunk too large")
		}
	}
	if size > 0 {
		if !d.signed {
			d.remaining = size
			return nil
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(d.br, data); err != nil {
			return errIncompleteBody()
		}
		if !d.checkChunk(data, sig) {
			return d.chunkSignatureMismatch()
		}
		if d.sum != nil {
			d.sum.Write(data)
		}
		d.pending = data
		return nil
	}
	// Final chunk.
	if d.signed && !d.checkChunk(nil, sig) {
		return d.chunkSignatureMismatch()
	}
	trailers := map[string]string{}
	var canon strings.Builder
	var trailerSig string
	for {
		line, err := d.readLine()
		if err != nil {
			return errIncompleteBody()
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return errChunk("malformed trailer")
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			trailerSig = value
			continue
		}
		trailers[name] = value
		canon.WriteString(name + ":" + value + "\n")
	}
	if d.signed && d.trailer {
		h := sha256.Sum256([]byte(canon.String()))
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + d.ac.amzDate + "\n" + d.ac.scope + "\n" + d.prevSig + "\n" + hex.EncodeToString(h[:])
		want := hex.EncodeToString(hmacSHA256(d.ac.signingKey, sts))
		if !hmac.Equal([]byte(want), []byte(trailerSig)) {
			return d.chunkSignatureMismatch()
		}
	}
	if d.sum != nil {
		got, ok := trailers[d.trailerName]
		if !ok {
			return newS3Error(http.StatusBadRequest, "MalformedTrailerError", "The request contained trailing data that was not well-formed or did not conform to our published schema.")
		}
		want, err := base64.StdEncoding.DecodeString(got)
		if err != nil || !bytes.Equal(want, d.sum.Sum(nil)) {
			return errBadChecksum(d.alg)
		}
	}
	d.done = true
	return nil
}

// checkChunk verifies a chunk signature, which chains from the previous one.
func (d *chunkDecoder) checkChunk(data []byte, sig string) bool {
	h := sha256.Sum256(data)
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + d.ac.amzDate + "\n" + d.ac.scope + "\n" + d.prevSig + "\n" + emptySHA256 + "\n" + hex.EncodeToString(h[:])
	want := hex.EncodeToString(hmacSHA256(d.ac.signingKey, sts))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return false
	}
	d.prevSig = want
	return true
}

// bodyErrorWriter answers with the recorded body error, if any, in place of
// whatever gofakes3 writes once the aborted write returns.
type bodyErrorWriter struct {
	http.ResponseWriter
	r         *http.Request
	state     *bodyState
	requestID string
	replaced  bool
	wrote     bool
}

func (w *bodyErrorWriter) check() {
	if w.wrote {
		return
	}
	w.wrote = true
	if w.state.err != nil {
		w.replaced = true
		writeS3Error(w.ResponseWriter, w.r, w.state.err, w.requestID)
	}
}

func (w *bodyErrorWriter) WriteHeader(code int) {
	w.check()
	if !w.replaced {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *bodyErrorWriter) Write(p []byte) (int, error) {
	w.check()
	if w.replaced {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// headWriter drops the body of a GET answered to a HEAD request.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(p []byte) (int, error) { return len(p), nil }
