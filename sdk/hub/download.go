package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Download returns the local path of one file of a repo (file is the path in
// the repo, "/"-separated, e.g. "img/2D/count/ade20k_10.png"), downloading it
// into the cache unless it is there. repoID may instead be a local directory
// (or Options.LocalDir may be set): the file is then read from there.
//
// Online, a cached file costs one HEAD request (to learn what the revision
// points to) and no download; with a 40-hex commit as revision it costs none.
// If the hub cannot be reached, a cached copy of the revision is used.
func Download(ctx context.Context, repoID, file string, opt Options) (string, error) {
	if err := checkRelPath("file name", file); err != nil {
		return "", err
	}
	if dir, ok, err := localDir(repoID, opt); err != nil || ok {
		if err != nil {
			return "", err
		}
		return localFile(dir, file)
	}
	r, err := newRepo(repoID, opt)
	if err != nil {
		return "", err
	}
	return r.fetch(ctx, file)
}

// DownloadFiles is Download for several files of one repo, fetched by up to
// Options.Workers goroutines; the paths come back in the order of files. The
// first failure cancels the rest and is returned.
func DownloadFiles(ctx context.Context, repoID string, files []string, opt Options) ([]string, error) {
	for _, f := range files {
		if err := checkRelPath("file name", f); err != nil {
			return nil, err
		}
	}
	if dir, ok, err := localDir(repoID, opt); err != nil || ok {
		if err != nil {
			return nil, err
		}
		out := make([]string, len(files))
		for i, f := range files {
			if out[i], err = localFile(dir, f); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	r, err := newRepo(repoID, opt)
	if err != nil {
		return nil, err
	}
	return r.fetchAll(ctx, files)
}

// Snapshot downloads the files of a repo whose paths match any of patterns
// (all files when patterns is empty; see Match) and returns the snapshot
// folder holding them, laid out as in the repo: the directory to hand to a
// model or data-set loader. Online it costs one request for the file list
// plus, per file not yet in the snapshot, a HEAD and a download; if the hub
// is unreachable it falls back to the cache. Offline, it returns the cached
// snapshot of the revision if it holds a matching file. For a local directory
// it returns the directory itself.
func Snapshot(ctx context.Context, repoID string, patterns []string, opt Options) (string, error) {
	if dir, ok, err := localDir(repoID, opt); err != nil || ok {
		if err != nil {
			return "", err
		}
		files, err := listDir(dir)
		if err != nil {
			return "", err
		}
		if len(Filter(files, patterns)) == 0 {
			return "", fmt.Errorf("hub: no file in local directory %s matches %q: %w", dir, patterns, fs.ErrNotExist)
		}
		return dir, nil
	}
	r, err := newRepo(repoID, opt)
	if err != nil {
		return "", err
	}
	if r.opt.Offline {
		return r.cachedSnapshotMatching(patterns, offlineWhy)
	}
	commit, all, err := r.info(ctx)
	if errors.Is(err, ErrUnreachable) {
		if dir, cerr := r.cachedSnapshotMatching(patterns, "the hub is unreachable"); cerr == nil {
			return dir, nil
		}
	}
	if err != nil {
		return "", err
	}
	files := Filter(all, patterns)
	if len(files) == 0 {
		return "", fmt.Errorf("hub: no file of %s at revision %q matches %q (it has %d files): %w",
			r, r.opt.Revision, patterns, len(all), ErrNotFound)
	}
	pinned := *r
	pinned.opt.Revision = commit
	if _, err := pinned.fetchAll(ctx, files); err != nil {
		return "", err
	}
	if err := r.writeRef(r.opt.Revision, commit); err != nil {
		return "", err
	}
	return r.snapshotDir(commit), nil
}

// Resolve returns the directory holding a repo's files without any network:
// idOrDir itself (or Options.LocalDir) when it is a directory, else the
// cached snapshot of the revision. It fails with ErrNotCached when nothing is
// cached; Snapshot is the call that downloads.
func Resolve(idOrDir string, opt Options) (string, error) {
	if dir, ok, err := localDir(idOrDir, opt); err != nil || ok {
		return dir, err
	}
	r, err := newRepo(idOrDir, opt)
	if err != nil {
		return "", err
	}
	if dir, ok := r.cachedSnapshot(); ok {
		return dir, nil
	}
	return "", r.notCachedError("", "Resolve reads the cache only (Snapshot downloads)")
}

// fetch is Download for one validated file of the hub.
func (r *repo) fetch(ctx context.Context, file string) (string, error) {
	rev := r.opt.Revision
	if commitRE.MatchString(rev) { // a commit's snapshot never changes
		if p := r.snapshotFile(rev, file); isFile(p) {
			return p, nil
		}
	}
	if r.opt.Offline {
		if p, ok := r.cachedFile(file); ok {
			return p, nil
		}
		return "", r.notCachedError(fmt.Sprintf("file %q", file), offlineWhy)
	}
	m, err := r.head(ctx, rev, file)
	if err != nil {
		if p, ok := r.cachedFile(file); ok && errors.Is(err, ErrUnreachable) {
			return p, nil
		}
		return "", err
	}
	if err := r.writeRef(rev, m.commit); err != nil {
		return "", err
	}
	pointer := r.snapshotFile(m.commit, file)
	if isFile(pointer) {
		return pointer, nil
	}
	blob, err := r.fetchBlob(ctx, m, file)
	if err != nil {
		return "", err
	}
	if err := linkBlob(blob, pointer); err != nil {
		return "", err
	}
	return pointer, nil
}

// fetchAll fetches files with r.opt.Workers goroutines.
func (r *repo) fetchAll(parent context.Context, files []string) ([]string, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	out := make([]string, len(files))
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(r.opt.Workers, len(files)) {
		wg.Go(func() {
			for i := range next {
				if out[i], errs[i] = r.fetch(ctx, files[i]); errs[i] != nil {
					cancel()
				}
			}
		})
	}
feed:
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	var canceled error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
		if err != nil && canceled == nil {
			canceled = err
		}
	}
	if err := parent.Err(); err != nil {
		return nil, fmt.Errorf("hub: downloading %s: %w", r, err)
	}
	if canceled != nil {
		return nil, canceled
	}
	return out, nil
}

// cachedSnapshotMatching is Snapshot from the cache alone.
func (r *repo) cachedSnapshotMatching(patterns []string, why string) (string, error) {
	want := "files matching " + strings.Join(patterns, ", ")
	if len(patterns) == 0 {
		want = ""
	}
	dir, ok := r.cachedSnapshot()
	if !ok {
		return "", r.notCachedError(want, why)
	}
	files, err := listDir(dir)
	if err != nil {
		return "", err
	}
	if len(Filter(files, patterns)) == 0 {
		return "", r.notCachedError(want, why)
	}
	return dir, nil
}

// localDir says whether idOrDir (or opt.LocalDir) is a local directory that
// replaces the hub. An id that looks like a path but is missing is an error.
func localDir(idOrDir string, opt Options) (string, bool, error) {
	if opt.LocalDir != "" {
		if st, err := os.Stat(opt.LocalDir); err != nil || !st.IsDir() {
			return "", false, fmt.Errorf("hub: Options.LocalDir %q is not a directory: %w", opt.LocalDir, fs.ErrNotExist)
		}
		return opt.LocalDir, true, nil
	}
	p := expandHome(idOrDir)
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return p, true, nil
	}
	if filepath.IsAbs(p) || p == "." || p == ".." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") ||
		strings.HasPrefix(idOrDir, "~") || strings.ContainsRune(p, filepath.Separator) && filepath.Separator != '/' {
		return "", false, fmt.Errorf("hub: local directory %q does not exist: %w", idOrDir, fs.ErrNotExist)
	}
	return "", false, nil
}

// localFile is file inside a local directory standing in for the hub.
func localFile(dir, file string) (string, error) {
	p := filepath.Join(dir, filepath.FromSlash(file))
	if !isFile(p) {
		return "", fmt.Errorf("hub: %q is not in the local directory %s (used instead of the hub): %w",
			file, dir, fs.ErrNotExist)
	}
	return p, nil
}
