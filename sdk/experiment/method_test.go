package experiment

import (
	"fmt"
	"testing"

	"github.com/visreft/visreft/sdk/models/llava"
)

// TestTable4 reproduces the paper's Table 4 from configs alone, to its
// printed precision: ReFT 0.019 %, LoRA 0.17 %, full fine-tuning 60.99 %.
func TestTable4(t *testing.T) {
	c := llava.NanoLLaVA()
	total := llava.CountParams(c).Total
	for _, tc := range []struct {
		m     Method
		want  string
		prec  int
		count int64
	}{
		{PaperReFT(4, "all"), "0.019", 3, 196_704},
		{PaperLoRA(), "0.17", 2, 1_744_896},
		{PaperFull(), "60.99", 2, 621_800_448},
	} {
		n, err := tc.m.TrainableParams(c)
		if err != nil {
			t.Fatal(err)
		}
		share := fmt.Sprintf("%.*f", tc.prec, 100*float64(n)/float64(total))
		if n != tc.count || share != tc.want {
			t.Errorf("%s: %d params = %s %%, want %d = %s %%", tc.m.Name, n, share, tc.count, tc.want)
		}
	}
}
