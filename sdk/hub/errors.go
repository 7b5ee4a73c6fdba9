package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors, for errors.Is. Every error this package returns for these
// cases wraps one of them and carries a message naming the repo, the file
// and what to do.
var (
	// ErrNotCached: offline (or the hub unreachable) and the file is not in the cache.
	ErrNotCached = errors.New("not in the hub cache")
	// ErrNotFound: the hub says the repo, revision or file does not exist (or is hidden from us).
	ErrNotFound = errors.New("not found on the hub")
	// ErrUnauthorized: the hub refused access (gated or private repo, missing or bad token).
	ErrUnauthorized = errors.New("access refused by the hub")
	// ErrUnreachable: no connection to the endpoint could be made.
	ErrUnreachable = errors.New("hub unreachable")
	// ErrIntegrity: a downloaded file had the wrong size or sha256; it was discarded.
	ErrIntegrity = errors.New("download failed verification")
)

// notCachedError explains how to get what offline mode cannot find; what
// is e.g. `file "config.json"`, or empty for the whole repo.
func (r *repo) notCachedError(what, why string) error {
	if what == "" {
		what = r.String()
	} else {
		what += " of " + r.String()
	}
	return fmt.Errorf("hub: no cached copy of %s at revision %q (searched %s); %s: %w.\n"+
		"To fix: download it on a connected machine (hub.Snapshot, or `hf download %s%s`) and copy the %s folder "+
		"into this cache; or set HF_HUB_CACHE (or Options.CacheDir) to a cache that holds it; "+
		"or pass a local directory holding the files instead of the repo id",
		what, r.opt.Revision, r.storage(), why, ErrNotCached, r.id, r.cliTypeFlag(), r.folderName())
}

func (r *repo) cliTypeFlag() string {
	if r.typ == Model {
		return ""
	}
	return " --repo-type " + string(r.typ)
}

const offlineWhy = "offline mode is on (HF_HUB_OFFLINE=1 or Options.Offline)"

// statusError turns a refused hub request into an error naming repo and file.
// The hub tells which object is missing in X-Error-Code.
func (r *repo) statusError(resp *http.Response, file, revision string) error {
	code := resp.Header.Get("X-Error-Code")
	msg := strings.TrimSpace(resp.Header.Get("X-Error-Message"))
	detail := fmt.Sprintf("HTTP %d from %s", resp.StatusCode, resp.Request.URL.Redacted())
	if msg != "" {
		detail += ": " + msg
	}
	what := fmt.Sprintf("file %q of %s", file, r)
	if file == "" {
		what = r.String()
	}
	tokenHint := "no token was sent: set HF_TOKEN (or HF_TOKEN_PATH, or Options.Token)"
	if r.opt.Token != "" {
		tokenHint = "the token sent (HF_TOKEN or Options.Token) does not grant access"
	}
	switch {
	case code == "GatedRepo":
		return fmt.Errorf("hub: %s is gated: accept its conditions at %s and use a token of that account; %s (%s): %w",
			r, r.urlPrefix(), tokenHint, detail, ErrUnauthorized)
	case code == "RepoNotFound" && resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("hub: %s was not found: check the owner/name (a private repo the token "+
			"cannot see looks the same: check HF_TOKEN) (%s): %w", r, detail, ErrNotFound)
	case code == "RepoNotFound":
		return fmt.Errorf("hub: %s was not found, or it is private or gated and %s (%s): %w; %w",
			r, tokenHint, detail, ErrNotFound, ErrUnauthorized)
	case code == "RevisionNotFound":
		return fmt.Errorf("hub: revision %q of %s was not found (%s): %w", revision, r, detail, ErrNotFound)
	case code == "EntryNotFound":
		return fmt.Errorf("hub: %s was not found at revision %q (%s): %w", what, revision, detail, ErrNotFound)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("hub: access to %s refused; the repo may be private or gated and %s (%s): %w",
			what, tokenHint, detail, ErrUnauthorized)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("hub: %s or its revision %q was not found (%s): %w", what, revision, detail, ErrNotFound)
	}
	return fmt.Errorf("hub: fetching %s failed: %s", what, detail)
}

// netError explains a failed connection, or passes a cancellation through.
func (r *repo) netError(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("hub: %s of %s: %w", what, r, ctx.Err())
	}
	return fmt.Errorf("hub: cannot reach the hub at %s for %s of %s: %v; %w.\n"+
		"Without network: set HF_HUB_OFFLINE=1 to use the cache only (filled on a connected machine), "+
		"set HF_ENDPOINT to a reachable mirror, or pass a local directory holding the files",
		r.opt.Endpoint, what, r, err, ErrUnreachable)
}
