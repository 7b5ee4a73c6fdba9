package tokenizer_test

import (
	"fmt"
	"log"
	"path/filepath"

	"github.com/visreft/visreft/sdk/tokenizer"
)

// visreft-mini's tokenizer.json is a small vocabulary cut out of Qwen2's
// byte-level BPE; nanoLLaVA's full one loads the same way. Chat markers
// such as <|im_end|> are added tokens, one id each; Ġ is how byte-level BPE
// writes a leading space. Decode with skipSpecial drops the added tokens.
func ExampleLoad() {
	tok, err := tokenizer.Load(filepath.Join("..", "..", "testdata", "models", "visreft-mini", "tokenizer.json"))
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("Which object is closer?<|im_end|>")
	fmt.Println(len(ids), "ids:", tok.Tokens("Which object is closer?<|im_end|>"))
	fmt.Printf("%q\n", tok.Decode(ids, true))
	// Output:
	// 6 ids: [Which Ġobject Ġis Ġcloser ? <|im_end|>]
	// "Which object is closer?"
}
