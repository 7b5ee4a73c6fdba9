package cvbench

import (
	"image/color"
	"reflect"
	"strings"
	"testing"
)

// testdata/cvbench/external.parquet was written by hyparquet-writer 0.17.0
// (JavaScript), not by parquet-go: see testdata/cvbench/README.md.
const externalParquet = "../../testdata/cvbench/external.parquet"

func TestExternalParquet(t *testing.T) {
	ds, err := LoadParquet(externalParquet, WithImageCheck(CheckImageFull))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Examples) != 4 || ds.Stats.Skipped != 0 {
		t.Fatalf("%d examples, stats %v", len(ds.Examples), ds.Stats)
	}
	ts := int64(1234)
	want := []Example{
		{Idx: 0, Type: Type2D, Task: TaskCount, Question: "How many organs are in the image?",
			Choices: []string{"3", "2", "1", "0"}, Answer: "(C)", Filename: "img/2D/count/ade20k_10.png",
			Source: SourceADE20K, SourceDataset: "ADE20K", SourceFilename: "ADE_val_00000010.jpg", TargetClass: "organ",
			ImagePath: "ade20k_10.png"},
		{Idx: 1, Type: Type2D, Task: TaskRelation, Choices: []string{"left", "right"}, Answer: "(B)",
			Filename: "img/2D/relation/coco_1.png", Source: SourceCOCO, SourceDataset: "COCO",
			SourceFilename: "000000000139.jpg", TargetClass: "cup", TargetSize: &ts, ImagePath: "coco_1.png"},
		{Idx: 2, Type: Type3D, Task: TaskDepth, Choices: []string{"lamp", "chair"}, Answer: "(A)",
			Filename: "img/3D/depth/omni3d_2.png", Source: SourceOmni3D, SourceDataset: "SUNRGBD",
			SourceFilename: "sunrgbd/kv1/000002.jpg", BBox: [][]float64{{10.5, 20, 30.25, 40}, {50, 60.5, 70, 80.75}},
			ImagePath: "omni3d_2.png"},
		{Idx: 3, Type: Type3D, Task: TaskDistance, Choices: []string{"sofa", "shelf"}, Answer: "(B)",
			Filename: "img/3D/distance/omni3d_3.png", Source: SourceOmni3D, SourceDataset: "Hypersim",
			SourceFilename: "ai_001_001/frame.0003.jpg", BBox: [][]float64{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}},
			ImagePath: "omni3d_3.png"},
	}
	sizes := [][2]int{{8, 6}, {6, 6}, {8, 8}, {10, 4}}
	centre := []color.RGBA{{200, 30, 30, 255}, {30, 160, 40, 255}, {30, 60, 200, 255}, {240, 200, 20, 255}}
	for i, e := range ds.Examples {
		if e.Prompt != MakePrompt(e.Question, e.Choices) {
			t.Errorf("row %d: prompt %q", i, e.Prompt)
		}
		img, err := e.Image()
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		b := img.Bounds()
		if b.Dx() != sizes[i][0] || b.Dy() != sizes[i][1] {
			t.Errorf("row %d: image %v, want %v", i, b, sizes[i])
		}
		if c := color.RGBAModel.Convert(img.At(b.Dx()/2, b.Dy()/2)); c != centre[i] {
			t.Errorf("row %d: centre pixel %v, want %v", i, c, centre[i])
		}
		if i > 0 && !strings.Contains(e.Question, "?") {
			t.Errorf("row %d: question %q", i, e.Question)
		}
		e.image, e.Prompt = imageSource{}, ""
		if i > 0 {
			e.Question = ""
		}
		if !reflect.DeepEqual(e, want[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, e, want[i])
		}
	}
}
