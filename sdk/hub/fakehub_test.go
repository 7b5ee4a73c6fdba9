package hub

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeHub imitates huggingface.co for the tests: resolve URLs answering HEAD
// and GET with X-Repo-Commit and ETag / X-Linked-Etag, LFS files redirected
// to a second server (the "CDN") that honours Range, the repo info API, and
// the hub's 401/403/404 answers with X-Error-Code.
type fakeHub struct {
	hub, cdn *httptest.Server
	token    string // the token private and gated repos accept

	mu       sync.Mutex
	repos    map[string]*fakeRepo // "models/acme/tiny", "datasets/acme/cvb"
	renamed  map[string]string    // old "owner/name" -> new, answered with a relative 307
	log      []string             // "HEAD /acme/tiny/resolve/main/x", "CDN GET /blob/<sha>"
	auth     []string             // hub requests: their Authorization header
	cdnAuth  []string             // CDN requests: their Authorization header
	ranges   []string             // CDN requests: their Range header
	cutAfter int                  // CDN: abort the next body after this many bytes
	corrupt  bool                 // CDN: serve flipped bytes
	noRange  bool                 // CDN: ignore Range, answer 200
	stall    chan struct{}        // CDN: after half the body, wait on this (or the client leaving)
}

type fakeRepo struct {
	commit        string
	files         map[string]fakeFile
	private, gate bool
}

type fakeFile struct {
	data []byte
	lfs  bool
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	h := &fakeHub{token: "hf_secret", repos: map[string]*fakeRepo{}, renamed: map[string]string{}}
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	t.Cleanup(func() {
		if h.stall != nil {
			close(h.stall)
		}
		h.hub.Close()
		h.cdn.Close()
	})
	return h
}

// add creates a repo; typ is "models" or "datasets".
func (h *fakeHub) add(typ, id string, files map[string]fakeFile) *fakeRepo {
	sum := sha1.Sum([]byte(typ + id + strconv.Itoa(len(h.repos))))
	r := &fakeRepo{commit: hex.EncodeToString(sum[:]), files: files}
	h.mu.Lock()
	h.repos[typ+"/"+id] = r
	h.mu.Unlock()
	return r
}

func (h *fakeHub) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log, h.auth, h.cdnAuth, h.ranges = nil, nil, nil, nil
}

// count returns how many logged requests start with prefix ("" for all).
func (h *fakeHub) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, l := range h.log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func (h *fakeHub) opts(t *testing.T) Options {
	return Options{Endpoint: h.hub.URL, CacheDir: t.TempDir()}
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// gitSHA1 is the git blob id, the ETag the hub gives non-LFS files.
func gitSHA1(b []byte) string {
	s := sha1.Sum(append([]byte(fmt.Sprintf("blob %d\x00", len(b))), b...))
	return hex.EncodeToString(s[:])
}

func httpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Error-Code", code)
	w.Header().Set("X-Error-Message", msg)
	w.WriteHeader(status)
}

func (h *fakeHub) serveHub(w http.ResponseWriter, req *http.Request) {
	h.mu.Lock()
	h.log = append(h.log, req.Method+" "+req.URL.EscapedPath())
	h.auth = append(h.auth, req.Header.Get("Authorization"))
	h.mu.Unlock()
	segs := strings.Split(strings.TrimPrefix(req.URL.EscapedPath(), "/"), "/")
	for i, s := range segs {
		segs[i], _ = url.PathUnescape(s)
	}
	api := segs[0] == "api"
	if api {
		segs = segs[1:]
	}
	typ := "models"
	if segs[0] == "datasets" || (api && segs[0] == "models") {
		typ, segs = segs[0], segs[1:]
	}
	if len(segs) < 4 || (!api && len(segs) < 5) || (api && segs[2] != "revision") || (!api && segs[2] != "resolve") {
		http.NotFound(w, req)
		return
	}
	id, rev, file := segs[0]+"/"+segs[1], segs[3], strings.Join(segs[4:], "/")
	if api {
		file = ""
	}
	if to, ok := h.renamed[id]; ok && !api {
		w.Header().Set("Location", "/"+to+"/resolve/"+url.PathEscape(rev)+"/"+file)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	h.mu.Lock()
	r := h.repos[typ+"/"+id]
	h.mu.Unlock()
	authed := req.Header.Get("Authorization") == "Bearer "+h.token
	switch {
	case r == nil && !authed, r != nil && r.private && !authed:
		httpError(w, http.StatusUnauthorized, "RepoNotFound", "Repository Not Found")
		return
	case r == nil:
		httpError(w, http.StatusNotFound, "RepoNotFound", "Repository Not Found")
		return
	case r.gate && !authed:
		httpError(w, http.StatusForbidden, "GatedRepo", "Access to this repo is restricted")
		return
	case rev != "main" && rev != r.commit:
		httpError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	w.Header().Set("X-Repo-Commit", r.commit)
	if api {
		h.serveInfo(w, r)
		return
	}
	f, ok := r.files[file]
	if !ok {
		httpError(w, http.StatusNotFound, "EntryNotFound", file+" does not exist on \"main\"")
		return
	}
	if f.lfs {
		w.Header().Set("X-Linked-Etag", `"`+sha256Hex(f.data)+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(f.data)))
		w.Header().Set("ETag", `W/"redirect-etag"`)
		w.Header().Set("Location", h.cdn.URL+"/blob/"+sha256Hex(f.data)+"?signature=x")
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitSHA1(f.data)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		w.Write(f.data)
	}
}

func (h *fakeHub) serveInfo(w http.ResponseWriter, r *fakeRepo) {
	names := make([]string, 0, len(r.files))
	for n := range r.files {
		names = append(names, n)
	}
	slices.Sort(names)
	type sib struct {
		RFilename string `json:"rfilename"`
	}
	info := struct {
		SHA      string `json:"sha"`
		Siblings []sib  `json:"siblings"`
	}{SHA: r.commit}
	for _, n := range names {
		info.Siblings = append(info.Siblings, sib{n})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(info)
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, req *http.Request) {
	h.mu.Lock()
	h.log = append(h.log, "CDN "+req.Method+" "+req.URL.Path)
	h.cdnAuth = append(h.cdnAuth, req.Header.Get("Authorization"))
	h.ranges = append(h.ranges, req.Header.Get("Range"))
	var data []byte
	for _, r := range h.repos {
		for _, f := range r.files {
			if "/blob/"+sha256Hex(f.data) == req.URL.Path {
				data = slices.Clone(f.data)
			}
		}
	}
	cut, corrupt, noRange, stall := h.cutAfter, h.corrupt, h.noRange, h.stall
	h.cutAfter = 0
	h.mu.Unlock()
	if data == nil {
		http.NotFound(w, req)
		return
	}
	if corrupt {
		data[len(data)/2] ^= 0xff
	}
	start, status := 0, http.StatusOK
	if rg := req.Header.Get("Range"); rg != "" && !noRange {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || n >= len(data) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start, status = n, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(data)-1, len(data)))
	}
	body := data[start:]
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if req.Method == http.MethodHead {
		return
	}
	if stall != nil {
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-req.Context().Done():
		}
		panic(http.ErrAbortHandler)
	}
	if cut > 0 && cut < len(body) {
		w.Write(body[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	w.Write(body)
}
