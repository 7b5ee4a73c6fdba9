package notebook_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/notebook"
)

// TextTable is the terminal form of Table, which in GoNB shows an HTML
// table instead and elsewhere prints this text to notebook.Out.
func ExampleTextTable() {
	fmt.Print(notebook.TextTable("Table 4: trainable parameters (share in %)",
		[]string{"method", "parameters", "share"}, [][]string{
			{"LoReFT r4, all layers", "196,704", "0.019"},
			{"LoRA r8, q_proj and v_proj", "1,744,896", "0.171"},
		}))
	// Output:
	// Table 4: trainable parameters (share in %)
	// method                      parameters  share
	// --------------------------  ----------  -----
	// LoReFT r4, all layers       196,704     0.019
	// LoRA r8, q_proj and v_proj  1,744,896   0.171
}
