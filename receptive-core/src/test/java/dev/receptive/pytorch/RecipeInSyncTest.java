package dev.receptive.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The cross-check runs the PyTorch recipe that docs/model-format.md gives its readers:
 * scripts/pytorch/receptive_torch.py holds the documentation's Python block, up to its usage
 * lines, verbatim between its recipe markers.
 */
class RecipeInSyncTest {
    private static final String BEGIN = "# ---- recipe of docs/model-format.md, verbatim ----\n";
    private static final String END = "# ---- end of the recipe ----\n";
    private static final String USAGE = "path = \"model.safetensors\"\n";

    @Test
    void theScriptRunsTheDocumentedRecipe() throws IOException {
        String doc = Files.readString(Path.of("docs", "model-format.md"));
        int block = doc.indexOf("```python\n");
        assertTrue(block >= 0, "docs/model-format.md has no Python block");
        int usage = doc.indexOf(USAGE, block);
        assertTrue(usage > block, "docs/model-format.md: the Python block has no usage line " + USAGE.strip());
        String recipe = doc.substring(block + "```python\n".length(), usage).stripTrailing();

        String script = Files.readString(Path.of("scripts", "pytorch", "receptive_torch.py"));
        int begin = script.indexOf(BEGIN);
        int end = script.indexOf(END);
        assertTrue(begin >= 0 && end > begin, "receptive_torch.py lacks its recipe markers");
        assertEquals(recipe, script.substring(begin + BEGIN.length(), end).stripTrailing(),
                "scripts/pytorch/receptive_torch.py no longer holds the recipe of docs/model-format.md");
    }
}
