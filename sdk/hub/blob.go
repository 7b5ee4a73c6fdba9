package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxStalls is how many attempts in a row may bring no new byte before a
// download gives up (the .incomplete file stays, and the next call resumes).
const maxStalls = 3

// fetchBlob makes sure blobs/<etag> holds the file that m describes, and
// returns its path. Concurrent fetches of one blob, from this process or
// another (Python's huggingface_hub takes the same lock file), wait for each other.
func (r *repo) fetchBlob(ctx context.Context, m fileMeta, file string) (string, error) {
	blob := r.blobPath(m.etag)
	if isFile(blob) {
		return blob, nil
	}
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	unlock, err := lockFile(ctx, r.lockPath(m.etag))
	if err != nil {
		return "", fmt.Errorf("hub: locking the download of %q: %w", file, err)
	}
	defer unlock()
	if isFile(blob) {
		return blob, nil
	}
	inc := blob + ".incomplete"
	if err := r.download(ctx, m, file, inc); err != nil {
		return "", err
	}
	if err := os.Rename(inc, blob); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	return blob, nil
}

// download fills inc with the file's bytes, resuming what inc already holds,
// and verifies the size and (for LFS files, whose ETag is their sha256) the
// digest. A failed verification deletes inc.
func (r *repo) download(ctx context.Context, m fileMeta, file, inc string) error {
	f, err := os.OpenFile(inc, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	d := &transfer{r: r, m: m, file: file, f: f}
	if sha256HexRE.MatchString(m.etag) {
		d.h = sha256.New()
	}
	err = d.run(ctx)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("hub: %w", cerr)
	}
	if errors.Is(err, ErrIntegrity) {
		os.Remove(inc)
	}
	return err
}

// transfer is one file's download into its .incomplete file.
type transfer struct {
	r    *repo
	m    fileMeta
	file string
	f    *os.File
	h    hash.Hash // nil unless the ETag is a sha256
	have int64     // bytes in f, all hashed into h
}

func (d *transfer) run(ctx context.Context) error {
	if err := d.loadPrefix(); err != nil {
		return err
	}
	stalls := 0
	for d.m.size < 0 || d.have < d.m.size {
		before := d.have
		done, err := d.get(ctx)
		if err != nil && (ctx.Err() != nil || !errors.Is(err, errTransient)) {
			if ctx.Err() != nil {
				return fmt.Errorf("hub: download of %q stopped at %d bytes (kept in %s to resume): %w",
					d.file, d.have, d.f.Name(), ctx.Err())
			}
			return err
		}
		if done && d.m.size < 0 {
			break
		}
		if d.have == before {
			if err == nil {
				err = errors.New("the connection closed early")
			}
			if stalls++; stalls >= maxStalls {
				return fmt.Errorf("hub: download of %q of %s stalled at %d of %d bytes (kept in %s; "+
					"the next call resumes it): %v: %w", d.file, d.r, d.have, d.m.size, d.f.Name(), err, ErrUnreachable)
			}
		} else {
			stalls = 0
		}
	}
	return d.verify()
}

// loadPrefix hashes the bytes a previous attempt left, or drops them when
// they cannot be a prefix of the file.
func (d *transfer) loadPrefix() error {
	n, err := d.f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if d.m.size >= 0 && n > d.m.size {
		return d.restart()
	}
	if n > 0 && d.h != nil {
		if _, err := d.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("hub: %w", err)
		}
		if _, err := io.CopyN(d.h, d.f, n); err != nil {
			return fmt.Errorf("hub: reading %s: %w", d.f.Name(), err)
		}
	}
	d.have = n
	return nil
}

// restart empties the file: the server ignored or refused our Range.
func (d *transfer) restart() error {
	if err := d.f.Truncate(0); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if d.h != nil {
		d.h.Reset()
	}
	d.have = 0
	return nil
}

// errTransient marks a failure worth retrying from where the file stands.
var errTransient = errors.New("connection interrupted")

// get makes one GET from d.have on. done says the body ended normally.
func (d *transfer) get(ctx context.Context) (done bool, err error) {
	loc, perr := url.Parse(d.m.location)
	end, _ := url.Parse(d.r.opt.Endpoint)
	auth := perr == nil && end != nil && loc.Host == end.Host // never send the token to a CDN
	req, err := d.r.newRequest(ctx, http.MethodGet, d.m.location, auth)
	if err != nil {
		return false, err
	}
	if d.have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(d.have, 10)+"-")
	}
	resp, err := d.r.opt.Client.Do(req)
	if err != nil {
		return false, fmt.Errorf("%w: %w", errTransient, d.r.netError(ctx, err, fmt.Sprintf("file %q", d.file)))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && d.have > 0:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(d.have, 10)+"-") {
			return false, errors.Join(errTransient, d.restart())
		}
	case resp.StatusCode == http.StatusOK:
		if d.have > 0 {
			if err := d.restart(); err != nil {
				return false, err
			}
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && d.have > 0:
		return false, errors.Join(errTransient, d.restart())
	default:
		return false, d.r.statusError(resp, d.file, d.m.commit)
	}
	total := d.m.size
	if total < 0 && resp.StatusCode == http.StatusOK && resp.ContentLength >= 0 {
		total = resp.ContentLength
	}
	return d.copy(resp.Body, total)
}

// copy appends body to the file, hashing and reporting progress.
func (d *transfer) copy(body io.Reader, total int64) (bool, error) {
	progress := d.r.opt.Progress
	if progress != nil {
		progress(d.file, d.have, total)
	}
	buf := make([]byte, 1<<20)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := d.f.Write(buf[:n]); err != nil {
				return false, fmt.Errorf("hub: writing %s: %w", d.f.Name(), err)
			}
			if d.h != nil {
				d.h.Write(buf[:n])
			}
			d.have += int64(n)
			if progress != nil {
				progress(d.file, d.have, total)
			}
			if d.m.size >= 0 && d.have > d.m.size {
				return false, fmt.Errorf("hub: %q of %s: the server sent more than the announced %d bytes: %w",
					d.file, d.r, d.m.size, ErrIntegrity)
			}
		}
		if rerr == io.EOF {
			return true, nil
		}
		if rerr != nil {
			return false, fmt.Errorf("%w: %w", errTransient, rerr)
		}
	}
}

func (d *transfer) verify() error {
	if d.m.size >= 0 && d.have != d.m.size {
		return fmt.Errorf("hub: %q of %s has %d bytes, the hub announced %d: %w", d.file, d.r, d.have, d.m.size, ErrIntegrity)
	}
	if d.h != nil {
		if got := hex.EncodeToString(d.h.Sum(nil)); got != d.m.etag {
			return fmt.Errorf("hub: %q of %s has sha256 %s, the hub announced %s; the download was discarded: %w",
				d.file, d.r, got, d.m.etag, ErrIntegrity)
		}
	}
	return nil
}
