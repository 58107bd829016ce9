package dev.receptive.cli;

import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.ModelInfo;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * --mean and --std: how to normalize images for a model file that does not record it. An ONNX
 * file from elsewhere records none; it is fed pixels scaled to [0, 1] (mean 0, std 1), the
 * scaling of torchvision's ToTensor, unless these options say otherwise, and the command says so
 * in one line.
 */
final class InputScaling {
    @Option(names = "--mean", description = "For a model file that records no normalization (an ONNX file from "
            + "elsewhere): the mean subtracted from pixels scaled to [0, 1] (default: 0)")
    Double mean;

    @Option(names = "--std", description = "For a model file that records no normalization: the standard deviation "
            + "pixels are divided by after the mean (default: 1)")
    Double std;

    /** The contents with the normalization to use; {@code command} starts the line that reports a default. */
    ModelFile.Contents apply(ModelFile.Contents contents, String command) {
        Normalization recorded = contents.model().info().normalization();
        if (recorded != null) {
            if (mean != null || std != null) {
                throw new UsageException(contents.file() + " records its normalization (mean " + recorded.mean()
                        + ", std " + recorded.std() + "); --mean and --std apply to files that record none");
            }
            return contents;
        }
        Normalization chosen;
        if (mean != null || std != null) {
            double m = mean != null ? mean : 0;
            double s = std != null ? std : 1;
            if (!Double.isFinite(m) || !(s >= 1e-6) || Double.isInfinite(s)) {
                throw new UsageException("--mean must be a finite number and --std at least 1e-6, got " + m + " and " + s);
            }
            chosen = new Normalization(m, s);
        } else if (OnnxModels.isOnnx(contents.file())) {
            chosen = Normalization.UNIT_RANGE;
            System.err.println(String.format(Locale.ROOT, "receptive %s: %s records no normalization: feeding pixels"
                    + " scaled to [0, 1] (mean 0, std 1); --mean and --std set others", command, contents.file()));
        } else {
            return contents;
        }
        return new ModelFile.Contents(contents.file(), contents.model().withInfo(
                new ModelInfo(chosen, contents.model().info().classNames())), contents.metadata());
    }
}
