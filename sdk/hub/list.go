package hub

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ListFiles returns the paths of all files of a repo at the revision, as the
// hub's API lists them (siblings[].rfilename). Offline it lists the cached
// snapshot instead, which holds only the files downloaded so far; for a local
// directory it lists the directory.
func ListFiles(ctx context.Context, repoID string, opt Options) ([]string, error) {
	if dir, ok, err := localDir(repoID, opt); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return listDir(dir)
	}
	r, err := newRepo(repoID, opt)
	if err != nil {
		return nil, err
	}
	if r.opt.Offline {
		dir, ok := r.cachedSnapshot()
		if !ok {
			return nil, r.notCachedError("the file list", offlineWhy)
		}
		return listDir(dir)
	}
	_, files, err := r.info(ctx)
	return files, err
}

// repoInfo is the part of /api/{models,datasets}/{id}/revision/{rev} we use.
type repoInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
	} `json:"siblings"`
}

// info fetches the commit the revision points to and the repo's file list.
func (r *repo) info(ctx context.Context) (commit string, files []string, err error) {
	u := fmt.Sprintf("%s/api/%ss/%s/revision/%s", r.opt.Endpoint, r.typ, r.id, url.PathEscape(r.opt.Revision))
	var ri repoInfo
	if err := r.getJSON(ctx, u, r.opt.Revision, &ri); err != nil {
		return "", nil, err
	}
	if ri.SHA == "" || checkRelPath("commit", ri.SHA) != nil || strings.Contains(ri.SHA, "/") {
		return "", nil, fmt.Errorf("hub: %s gave no usable commit (sha %q) for %s at revision %q; check HF_ENDPOINT",
			u, ri.SHA, r, r.opt.Revision)
	}
	files = make([]string, 0, len(ri.Siblings))
	for _, s := range ri.Siblings {
		if err := checkRelPath("file name from the hub", s.RFilename); err != nil {
			return "", nil, err
		}
		files = append(files, s.RFilename)
	}
	return ri.SHA, files, nil
}

// Match reports whether the repo path name matches pattern under the rules
// of huggingface_hub's allow_patterns (Python's fnmatch): `*` matches any run
// of characters, "/" included; `?` one character; `[abc]`, `[a-z]` and `[!abc]`
// a class; and a pattern ending in "/" matches everything below that folder.
// So "img/*", "img/**" and "img/" all select the img folder, and "*.json"
// matches JSON files at any depth.
func Match(pattern, name string) bool {
	return compileGlob(pattern).MatchString(name)
}

// Filter returns, in order, the names that match at least one pattern; all
// names when patterns is empty.
func Filter(names, patterns []string) []string {
	if len(patterns) == 0 {
		return append([]string(nil), names...)
	}
	res := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		res[i] = compileGlob(p)
	}
	var out []string
	for _, n := range names {
		for _, re := range res {
			if re.MatchString(n) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// compileGlob translates an fnmatch pattern into an anchored regexp, as
// Python's fnmatch.translate does; an unclosed "[" is a literal.
func compileGlob(pattern string) *regexp.Regexp {
	if strings.HasSuffix(pattern, "/") {
		pattern += "*"
	}
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			if j < len(pattern) && pattern[j] == '!' {
				j++
			}
			if j < len(pattern) && pattern[j] == ']' {
				j++
			}
			for j < len(pattern) && pattern[j] != ']' {
				j++
			}
			if j >= len(pattern) {
				b.WriteString(`\[`)
				continue
			}
			class := pattern[i+1 : j]
			b.WriteByte('[')
			if strings.HasPrefix(class, "!") {
				b.WriteByte('^')
				class = class[1:]
			}
			for _, r := range class {
				if r == '-' {
					b.WriteRune(r)
				} else {
					b.WriteString(regexp.QuoteMeta(string(r)))
				}
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	b.WriteString(`)$`)
	re, err := regexp.Compile(b.String())
	if err != nil { // a malformed class such as [z-a]: match it literally
		return regexp.MustCompile(`^` + regexp.QuoteMeta(pattern) + `$`)
	}
	return re
}
