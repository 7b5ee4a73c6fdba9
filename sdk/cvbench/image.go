package cvbench

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // CV-Bench images are PNG or JPEG; other formats are accepted too
	_ "image/jpeg" // ditto
	"image/png"
	"io"
	"os"

	_ "golang.org/x/image/bmp"  // ditto
	_ "golang.org/x/image/webp" // ditto
)

// imageSource is where an Example's encoded image lives: bytes embedded in
// the parquet file, or a file below the jsonl data folder.
type imageSource struct {
	data []byte // parquet: the encoded image
	root string // jsonl: the data folder (absolute)
	name string // jsonl: the file, relative to root, slash-separated
}

// maxImageBytes bounds one image file read from disk (CV-Bench images are a
// few hundred KB).
const maxImageBytes = 64 << 20

func (s imageSource) open() (io.ReadCloser, error) {
	if s.data != nil {
		return io.NopCloser(bytes.NewReader(s.data)), nil
	}
	if s.name == "" {
		return nil, errors.New("cvbench: example has no image")
	}
	// OpenInRoot refuses names, including symlinks, that escape root.
	return os.OpenInRoot(s.root, s.name)
}

func (s imageSource) read() ([]byte, error) {
	if s.data != nil {
		return s.data, nil
	}
	f, err := s.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxImageBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxImageBytes {
		return nil, fmt.Errorf("cvbench: image %s is larger than %d bytes", s.name, maxImageBytes)
	}
	return b, nil
}

// ImageBytes returns the encoded image (PNG or JPEG), reading it from disk
// for jsonl data sets. The returned slice must not be modified.
func (e Example) ImageBytes() ([]byte, error) { return e.image.read() }

// Image decodes the example's image. Decoding is deferred to this call so
// that loading a data set does not hold thousands of decoded images.
func (e Example) Image() (image.Image, error) {
	b, err := e.image.read()
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cvbench: decode image of %s: %w", e.Key(), err)
	}
	return img, nil
}

// ImageCheck says how much of each image a loader verifies.
type ImageCheck int

const (
	// CheckImageHeader decodes only the image header (format and size):
	// cheap, and catches missing files, empty blobs and non-images. The default.
	CheckImageHeader ImageCheck = iota
	// CheckImageFull decodes every image completely at load time, which also
	// catches truncated or corrupt pixel data.
	CheckImageFull
	// CheckImageNone skips image checks (fastest; errors then surface at Image).
	CheckImageNone
)

// checkImage verifies an example's image as asked, returning a fieldError
// for the "image" (parquet) or "filename" (jsonl) field.
func checkImage(src imageSource, mode ImageCheck, field string) *fieldError {
	if mode == CheckImageNone {
		return nil
	}
	if src.data != nil && len(src.data) == 0 {
		return fieldErr(field, ErrBadImage, "image is empty")
	}
	if mode == CheckImageFull {
		b, err := src.read()
		if err != nil {
			return fieldErr(field, ErrBadImage, "%v", err)
		}
		if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
			return fieldErr(field, ErrBadImage, "%v", err)
		}
		return nil
	}
	f, err := src.open()
	if err != nil {
		return fieldErr(field, ErrBadImage, "%v", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return fieldErr(field, ErrBadImage, "%v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fieldErr(field, ErrBadImage, "image is %dx%d", cfg.Width, cfg.Height)
	}
	return nil
}

// WithImage returns e showing another encoded image (PNG, JPEG or WebP
// bytes) instead of its own: for ablations such as blanked images.
func (e Example) WithImage(encoded []byte) Example {
	e.image = imageSource{data: encoded}
	return e
}

// Grey is a uniform mid-grey image (every pixel 128) of bounds r: what
// Blanked shows instead of a picture.
func Grey(r image.Rectangle) *image.Gray {
	g := image.NewGray(r)
	for i := range g.Pix {
		g.Pix[i] = 128
	}
	return g
}

// Blanked returns xs with every image replaced by one uniform grey image of
// the same size as the first: the question and choices stay, what the
// model could see goes. A negative control for "training used the image".
func Blanked(xs []Example) ([]Example, error) {
	if len(xs) == 0 {
		return nil, nil
	}
	img, err := xs[0].Image()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, Grey(img.Bounds())); err != nil {
		return nil, err
	}
	out := make([]Example, len(xs))
	for i, x := range xs {
		out[i] = x.WithImage(buf.Bytes())
	}
	return out, nil
}
