package experiment

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"image"
)

// imageDigest is a sha256 of what an image shows: its bounds and every
// pixel's RGBA. Two images that decode to the same pixels have the same
// digest whatever their encoding; a blanked, regenerated or swapped image
// has another. Caches of computation on images are keyed by it.
func imageDigest(img image.Image) [32]byte {
	h := sha256.New()
	b := img.Bounds()
	var buf [16]byte
	for i, v := range []int{b.Min.X, b.Min.Y, b.Max.X, b.Max.Y} {
		binary.LittleEndian.PutUint32(buf[4*i:], uint32(int32(v)))
	}
	h.Write(buf[:])
	// Images that keep their pixels in one byte slice are hashed row by row
	// from it; the tag keeps two layouts of the same bytes apart.
	pix := func(tag string, p []byte, offset func(x, y int) int, bytesPerPixel int) {
		h.Write([]byte(tag))
		for y := b.Min.Y; y < b.Max.Y; y++ {
			i := offset(b.Min.X, y)
			h.Write(p[i : i+bytesPerPixel*b.Dx()])
		}
	}
	switch p := img.(type) {
	case *image.RGBA:
		pix("rgba", p.Pix, p.PixOffset, 4)
	case *image.NRGBA:
		pix("nrgba", p.Pix, p.PixOffset, 4)
	case *image.Gray:
		pix("gray", p.Pix, p.PixOffset, 1)
	default:
		h.Write([]byte("rgba64"))
		row := make([]byte, 8*b.Dx())
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, a := img.At(x, y).RGBA()
				o := 8 * (x - b.Min.X)
				binary.LittleEndian.PutUint16(row[o:], uint16(r))
				binary.LittleEndian.PutUint16(row[o+2:], uint16(g))
				binary.LittleEndian.PutUint16(row[o+4:], uint16(bl))
				binary.LittleEndian.PutUint16(row[o+6:], uint16(a))
			}
			h.Write(row)
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// imageDigests loads every image and digests it.
func imageDigests(images []func() (image.Image, error)) ([][32]byte, error) {
	out := make([][32]byte, len(images))
	for i, load := range images {
		img, err := load()
		if err != nil {
			return nil, fmt.Errorf("experiment: image %d: %w", i, err)
		}
		out[i] = imageDigest(img)
	}
	return out, nil
}
