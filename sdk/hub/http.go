package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// defaultClient bounds connecting and waiting for headers, not the body: a
// 2 GB download may take long, and the caller's context cancels it.
var defaultClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   15 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
	IdleConnTimeout:       90 * time.Second,
	MaxIdleConnsPerHost:   16,
	ForceAttemptHTTP2:     true,
}}

var userAgent = "visreft-hub/0.1; go/" + runtime.Version()

// headClient follows only relative redirects (a renamed repo), not absolute
// ones (a CDN): the hub's own answer carries the commit and the ETag, and its
// Location is where the bytes are. This is huggingface_hub's
// follow_relative_redirects.
func headClient(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.Response == nil {
			return http.ErrUseLastResponse
		}
		loc, err := url.Parse(req.Response.Header.Get("Location"))
		if err != nil || loc.Host != "" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &cc
}

// newRequest sets our headers; auth adds the token. "identity" keeps Go from
// asking for gzip, so Content-Length is the file's size and Range works.
func (r *repo) newRequest(ctx context.Context, method, u string, auth bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("hub: bad URL %q (check HF_ENDPOINT): %w", u, err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept-Encoding", "identity")
	if auth && r.opt.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.opt.Token)
	}
	return req, nil
}

// fileMeta is what a HEAD on a resolve URL tells about one file.
type fileMeta struct {
	commit   string // X-Repo-Commit
	etag     string // X-Linked-Etag, else ETag, unquoted: the blob's name
	location string // where to GET the bytes (a CDN for LFS files)
	size     int64  // X-Linked-Size, else Content-Length; -1 if unknown
}

// head asks the hub about file at revision.
func (r *repo) head(ctx context.Context, revision, file string) (fileMeta, error) {
	req, err := r.newRequest(ctx, http.MethodHead, r.fileURL(revision, file), true)
	if err != nil {
		return fileMeta{}, err
	}
	resp, err := headClient(r.opt.Client).Do(req)
	if err != nil {
		return fileMeta{}, r.netError(ctx, err, fmt.Sprintf("file %q", file))
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fileMeta{}, r.statusError(resp, file, revision)
	}
	m := fileMeta{
		commit:   resp.Header.Get("X-Repo-Commit"),
		etag:     normalizeETag(resp.Header.Get("X-Linked-Etag")),
		location: resp.Request.URL.String(),
		size:     -1,
	}
	if m.etag == "" {
		m.etag = normalizeETag(resp.Header.Get("ETag"))
	}
	if resp.StatusCode >= 300 {
		loc, err := resp.Location()
		if err != nil {
			return fileMeta{}, fmt.Errorf("hub: %s redirected %q without a usable Location: %v", r.opt.Endpoint, file, err)
		}
		m.location = loc.String()
	}
	for _, h := range []string{"X-Linked-Size", "Content-Length"} {
		if n, err := strconv.ParseInt(resp.Header.Get(h), 10, 64); err == nil && n >= 0 {
			m.size = n
			break
		}
	}
	if m.commit == "" || m.etag == "" {
		return fileMeta{}, fmt.Errorf("hub: the server at %s answered for file %q of %s without X-Repo-Commit or ETag "+
			"(HTTP %d): it does not look like a Hugging Face hub; check HF_ENDPOINT and proxy settings",
			r.opt.Endpoint, file, r, resp.StatusCode)
	}
	if checkRelPath("commit", m.commit) != nil || strings.Contains(m.commit, "/") ||
		checkRelPath("etag", m.etag) != nil || strings.Contains(m.etag, "/") {
		return fileMeta{}, fmt.Errorf("hub: the server at %s sent an unusable commit %q or ETag %q for %q",
			r.opt.Endpoint, m.commit, m.etag, file)
	}
	return m, nil
}

// normalizeETag drops a weak marker and the quotes: W/"abc" -> abc.
func normalizeETag(e string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(e), "W/"), `"`)
}

// maxJSON bounds an API answer; a big dataset's file list is a few MB.
const maxJSON = 256 << 20

// getJSON GETs an API URL and decodes its JSON answer into v.
func (r *repo) getJSON(ctx context.Context, u, revision string, v any) error {
	req, err := r.newRequest(ctx, http.MethodGet, u, true)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.opt.Client.Do(req)
	if err != nil {
		return r.netError(ctx, err, "the file list")
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return r.statusError(resp, "", revision)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(v); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("hub: decoding %s: %w", u, err)
	}
	return nil
}
