package hub

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// repo is one hub repository at one revision, with normalized options.
type repo struct {
	id  string
	typ RepoType
	opt Options
}

func newRepo(repoID string, opt Options) (*repo, error) {
	id, typ, err := splitRepoID(repoID, opt.RepoType)
	if err != nil {
		return nil, err
	}
	opt.RepoType = typ
	opt = opt.withDefaults()
	if err := checkRelPath("revision", opt.Revision); err != nil {
		return nil, err
	}
	if opt.CacheDir == "" {
		return nil, errors.New("hub: no cache directory: set HF_HUB_CACHE or Options.CacheDir")
	}
	return &repo{id: id, typ: typ, opt: opt}, nil
}

// String names the repo in messages: "model qnguyen3/nanoLLaVA".
func (r *repo) String() string { return fmt.Sprintf("%s %s", r.typ, r.id) }

// folderName is huggingface_hub's repo_folder_name: "models--owner--name".
func (r *repo) folderName() string {
	return string(r.typ) + "s--" + strings.ReplaceAll(r.id, "/", "--")
}

// storage is the repo's folder in the cache.
func (r *repo) storage() string { return filepath.Join(r.opt.CacheDir, r.folderName()) }

func (r *repo) blobPath(etag string) string { return filepath.Join(r.storage(), "blobs", etag) }

func (r *repo) snapshotDir(commit string) string {
	return filepath.Join(r.storage(), "snapshots", commit)
}

func (r *repo) snapshotFile(commit, file string) string {
	return filepath.Join(r.snapshotDir(commit), filepath.FromSlash(file))
}

func (r *repo) lockPath(etag string) string {
	return filepath.Join(r.opt.CacheDir, ".locks", r.folderName(), etag+".lock")
}

// urlPrefix is "{endpoint}/{id}" for models, "{endpoint}/datasets/{id}" otherwise.
func (r *repo) urlPrefix() string {
	if r.typ == Model {
		return r.opt.Endpoint + "/" + r.id
	}
	return r.opt.Endpoint + "/" + string(r.typ) + "s/" + r.id
}

// fileURL is the resolve URL of file at revision; the revision is escaped
// whole ("refs/pr/1" -> "refs%2Fpr%2F1") and the file per path segment.
func (r *repo) fileURL(revision, file string) string {
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return r.urlPrefix() + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(parts, "/")
}

// commitFor maps a revision to a commit without the network: a commit hash
// is itself, a branch or tag is read from refs/<revision>.
func (r *repo) commitFor(revision string) (string, bool) {
	if commitRE.MatchString(revision) {
		return revision, true
	}
	b, err := os.ReadFile(filepath.Join(r.storage(), "refs", filepath.FromSlash(revision)))
	if err != nil {
		return "", false
	}
	c := strings.TrimSpace(string(b))
	return c, checkRelPath("commit", c) == nil && !strings.Contains(c, "/")
}

// writeRef records that revision points at commit, as huggingface_hub does
// (no trailing newline; nothing written when the revision is the commit).
func (r *repo) writeRef(revision, commit string) error {
	if revision == commit {
		return nil
	}
	p := filepath.Join(r.storage(), "refs", filepath.FromSlash(revision))
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("hub: writing ref: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".ref-*")
	if err != nil {
		return fmt.Errorf("hub: writing ref: %w", err)
	}
	_, werr := tmp.WriteString(commit)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("hub: writing ref %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("hub: writing ref %s: %w", p, err)
	}
	return nil
}

// cachedFile is huggingface_hub's try_to_load_from_cache: the snapshot path
// of file at the options' revision, if present (a dangling link is absent).
func (r *repo) cachedFile(file string) (string, bool) {
	commit, ok := r.commitFor(r.opt.Revision)
	if !ok {
		return "", false
	}
	p := r.snapshotFile(commit, file)
	return p, isFile(p)
}

// cachedSnapshot is the snapshot folder of the options' revision, if present.
func (r *repo) cachedSnapshot() (string, bool) {
	commit, ok := r.commitFor(r.opt.Revision)
	if !ok {
		return "", false
	}
	d := r.snapshotDir(commit)
	st, err := os.Stat(d)
	return d, err == nil && st.IsDir()
}

// isFile reports whether p (after symlinks) is a regular file.
func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// linkBlob makes pointer a relative symlink to blob, as huggingface_hub
// does. The link is made under a temporary name and renamed into place, so a
// reader never sees the pointer missing. Where symlinks are refused (some
// Windows setups) the blob is copied instead.
func linkBlob(blob, pointer string) error {
	dir := filepath.Dir(pointer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	rel, err := filepath.Rel(dir, blob)
	if err != nil {
		rel = blob
	}
	if l, err := os.Readlink(pointer); err == nil && l == rel {
		return nil
	}
	tmp := fmt.Sprintf("%s.%d-%d.tmp", pointer, os.Getpid(), tmpSeq.Add(1))
	if err := os.Symlink(rel, tmp); err != nil {
		return copyFile(blob, pointer)
	}
	if err := os.Rename(tmp, pointer); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("hub: linking %s: %w", pointer, err)
	}
	return nil
}

var tmpSeq atomic.Int64

// copyFile copies src to a temporary file renamed to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	_, cerr := io.Copy(out, in)
	err = errors.Join(cerr, out.Close())
	if err == nil {
		err = os.Rename(out.Name(), dst)
	}
	if err != nil {
		os.Remove(out.Name())
		return fmt.Errorf("hub: copying %s to %s: %w", src, dst, err)
	}
	return nil
}

// listDir lists the regular files under dir (following symlinks to files) as
// slash-separated paths relative to dir, skipping .git and .cache folders.
func listDir(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (d.Name() == ".git" || d.Name() == ".cache") {
				return filepath.SkipDir
			}
			return nil
		}
		if !isFile(p) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hub: listing %s: %w", dir, err)
	}
	return out, nil
}
