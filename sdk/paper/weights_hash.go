package paper

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/fsutil"
)

// hexSHA256 is a sha256 in hex: the name of a Hugging Face cache blob
// stored by git LFS (every safetensors file is).
var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// weightsHashMu serialises the remembered-hashes file within a process.
var weightsHashMu sync.Mutex

// weightsHashFile remembers the sha256 of local weights files by path,
// size and modification time, so each is read once.
func weightsHashFile() string { return filepath.Join(demo.CacheDir(), "weights-sha256.json") }

// weightsHash is the sha256 of a weights file's content. A file of a hub
// cache snapshot is a link to its blob, which the cache names by that very
// sha256 (sdk/hub checks it on download), so nothing is read. Any other file
// is hashed once and remembered by absolute path, size and modification
// time (in VISREFT_CACHE or the user cache folder): a model re-trained into
// the same folder has a new time and is hashed anew.
func weightsHash(path string) (string, error) {
	if target, err := os.Readlink(path); err == nil {
		if blob := filepath.Base(target); hexSHA256.MatchString(blob) && filepath.Base(filepath.Dir(target)) == "blobs" {
			return blob, nil
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", abs, fi.Size(), fi.ModTime().UnixNano())
	weightsHashMu.Lock()
	defer weightsHashMu.Unlock()
	known := map[string]string{}
	if raw, err := os.ReadFile(weightsHashFile()); err == nil {
		_ = json.Unmarshal(raw, &known) // a damaged file is rebuilt
	}
	if h, ok := known[key]; ok && hexSHA256.MatchString(h) {
		return h, nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", fmt.Errorf("%s: %w", abs, err)
	}
	h := hex.EncodeToString(sum.Sum(nil))
	known[key] = h
	if raw, err := json.MarshalIndent(known, "", " "); err == nil {
		if err := os.MkdirAll(filepath.Dir(weightsHashFile()), 0o755); err == nil {
			_ = fsutil.WriteFile(weightsHashFile(), raw) // only a speed-up: a failed write costs a re-hash
		}
	}
	return h, nil
}
