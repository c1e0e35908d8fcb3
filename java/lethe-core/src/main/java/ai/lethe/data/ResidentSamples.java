package ai.lethe.data;

/**
 * A data set whose decoded samples already live in one tensor, on the device of the model that reads them
 * ({@code ai.lethe.model.DeviceDataset}). A {@link BatchStream} over it delivers batches that carry only indices
 * and labels ({@link Batch#source()}): the model gathers the rows where they are, so no sample is decoded or copied
 * per batch. A stream that changes samples as it reads them (a {@link BatchStream.SampleTransform}) still reads them
 * from the files.
 */
public interface ResidentSamples extends Dataset {
}
