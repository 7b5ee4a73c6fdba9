package cvbench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/visreft/visreft/sdk/fsutil"
)

// parquetImage is the Hugging Face Image feature's storage: struct{bytes, path}.
type parquetImage struct {
	Bytes []byte `parquet:"bytes,optional"`
	Path  string `parquet:"path,optional"`
}

// parquetRow is a CV-Bench row as the hub's parquet files store it, in the
// same column order, every column nullable (as pyarrow writes them).
type parquetRow struct {
	Idx            *int64        `parquet:"idx,optional"`
	Type           string        `parquet:"type,optional"`
	Task           string        `parquet:"task,optional"`
	Image          *parquetImage `parquet:"image,optional"`
	Question       string        `parquet:"question,optional"`
	Choices        []string      `parquet:"choices,optional,list"`
	Answer         string        `parquet:"answer,optional"`
	Prompt         string        `parquet:"prompt,optional"`
	Filename       string        `parquet:"filename,optional"`
	Source         string        `parquet:"source,optional"`
	SourceDataset  string        `parquet:"source_dataset,optional"`
	SourceFilename string        `parquet:"source_filename,optional"`
	TargetClass    string        `parquet:"target_class,optional"`
	TargetSize     *int64        `parquet:"target_size,optional"`
	BBox           [][]float64   `parquet:"bbox,optional,list"`
}

// jsonlRow is a CV-Bench row as the hub's jsonl files store it.
type jsonlRow struct {
	Idx            int64       `json:"idx"`
	Type           string      `json:"type"`
	Task           string      `json:"task"`
	Question       string      `json:"question"`
	Choices        []string    `json:"choices"`
	Answer         string      `json:"answer"`
	Prompt         string      `json:"prompt"`
	Filename       string      `json:"filename"`
	Source         string      `json:"source"`
	SourceDataset  string      `json:"source_dataset"`
	SourceFilename string      `json:"source_filename"`
	TargetClass    *string     `json:"target_class"`
	TargetSize     *int64      `json:"target_size"`
	BBox           [][]float64 `json:"bbox"`
}

// hfFeatures is the "huggingface" parquet metadata the datasets library
// reads to restore feature types (so the image column decodes as Image).
const hfFeatures = `{"info":{"features":{"idx":{"dtype":"int64","_type":"Value"},"type":{"dtype":"string","_type":"Value"},` +
	`"task":{"dtype":"string","_type":"Value"},"image":{"_type":"Image"},"question":{"dtype":"string","_type":"Value"},` +
	`"choices":{"feature":{"dtype":"string","_type":"Value"},"_type":"Sequence"},"answer":{"dtype":"string","_type":"Value"},` +
	`"prompt":{"dtype":"string","_type":"Value"},"filename":{"dtype":"string","_type":"Value"},"source":{"dtype":"string","_type":"Value"},` +
	`"source_dataset":{"dtype":"string","_type":"Value"},"source_filename":{"dtype":"string","_type":"Value"},` +
	`"target_class":{"dtype":"string","_type":"Value"},"target_size":{"dtype":"int64","_type":"Value"},` +
	`"bbox":{"feature":{"feature":{"dtype":"float64","_type":"Value"},"_type":"Sequence"},"_type":"Sequence"}}}}`

func toParquetRow(e Example) parquetRow {
	idx := e.Idx
	return parquetRow{
		Idx: &idx, Type: string(e.Type), Task: string(e.Task),
		Image:    &parquetImage{Bytes: e.image.data, Path: e.ImagePath},
		Question: e.Question, Choices: e.Choices, Answer: e.Answer, Prompt: e.Prompt,
		Filename: e.Filename, Source: string(e.Source), SourceDataset: e.SourceDataset,
		SourceFilename: e.SourceFilename, TargetClass: e.TargetClass,
		TargetSize: e.TargetSize, BBox: e.BBox,
	}
}

func toJSONLRow(e Example) jsonlRow {
	row := jsonlRow{
		Idx: e.Idx, Type: string(e.Type), Task: string(e.Task), Question: e.Question,
		Choices: e.Choices, Answer: e.Answer, Prompt: e.Prompt, Filename: e.Filename,
		Source: string(e.Source), SourceDataset: e.SourceDataset, SourceFilename: e.SourceFilename,
		TargetSize: e.TargetSize, BBox: e.BBox,
	}
	if e.TargetClass != "" {
		tc := e.TargetClass
		row.TargetClass = &tc
	}
	return row
}

// createAtomic starts an atomic write of path (sdk/fsutil), creating its folder.
func createAtomic(path string) (*fsutil.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return fsutil.Create(path)
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return fsutil.WriteFile(path, data)
}

// genBatch is how many rows are drawn between writes: it bounds memory.
const genBatch = 64

// writeType draws and writes the rows of one type (file index i: 0 = 2D).
// Images are written first and the jsonl and parquet files are renamed
// into place last, so a reader never sees a row whose image is missing.
func writeType(dir string, i int, specs []spec, o GenerateOptions) (err error) {
	fail := func(e error) error { return fmt.Errorf("cvbench: generate: %w", e) }
	var pqFile, jsFile *fsutil.File
	var pw *parquet.GenericWriter[parquetRow]
	var jw *bufio.Writer
	if o.Form != FormJSONL {
		if pqFile, err = createAtomic(filepath.Join(dir, ParquetFiles[i])); err != nil {
			return fail(err)
		}
		defer pqFile.Abort()
		pw = parquet.NewGenericWriter[parquetRow](pqFile,
			parquet.Compression(&parquet.Snappy),
			parquet.MaxRowsPerRowGroup(100),
			parquet.CreatedBy("visreft", "0.1.0", "cvbench-synthetic"),
			parquet.KeyValueMetadata("huggingface", hfFeatures),
			parquet.KeyValueMetadata("visreft", fmt.Sprintf(`{"synthetic":true,"generator":%d,"seed":%d,"image_size":%d}`, GeneratorVersion, o.Seed, o.ImageSize)))
	}
	if o.Form != FormParquet {
		if jsFile, err = createAtomic(filepath.Join(dir, JSONLFiles[i])); err != nil {
			return fail(err)
		}
		defer jsFile.Abort()
		jw = bufio.NewWriter(jsFile)
	}
	enc := json.NewEncoder(jw)
	enc.SetEscapeHTML(false)
	for start := 0; start < len(specs); start += genBatch {
		exs, err := renderBatch(o.Seed, o.ImageSize, o.Workers, specs[start:min(start+genBatch, len(specs))])
		if err != nil {
			return err
		}
		for _, e := range exs {
			if pw != nil {
				if _, err := pw.Write([]parquetRow{toParquetRow(e)}); err != nil {
					return fail(err)
				}
			}
			if jw != nil {
				if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(e.Filename)), e.image.data); err != nil {
					return fail(err)
				}
				if err := enc.Encode(toJSONLRow(e)); err != nil {
					return fail(err)
				}
			}
		}
	}
	if pw != nil {
		if err := pw.Close(); err != nil {
			return fail(err)
		}
		if err := pqFile.Commit(); err != nil {
			return fail(err)
		}
	}
	if jw != nil {
		if err := jw.Flush(); err != nil {
			return fail(err)
		}
		if err := jsFile.Commit(); err != nil {
			return fail(err)
		}
	}
	return nil
}
