// Trains a small model on the bundled protein data, evaluates it, saves a
// checkpoint and loads it back. Usage: seqcnn_consumer DATA_DIR CHECKPOINT
#include <algorithm>
#include <cstdio>
#include <seqcnn/seqcnn.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) return std::fprintf(stderr, "usage: %s DATA_DIR CHECKPOINT\n", argv[0]), 2;
  try {
    seqcnn::TrainConfig config = seqcnn::preset_config("seed");  // embedding 32, one conv, dense
    config.data.train_path = std::string(argv[1]) + "/train.ss3.txt";
    config.data.valid_path = std::string(argv[1]) + "/valid.ss3.txt";
    config.data.test_path = "";  // not needed here
    config.run.epochs = 2;
    config.run.out_dir = "";  // the trainer writes no files; we save below
    const seqcnn::TrainingData data = seqcnn::load_training_data(config.data);

    seqcnn::Model model = seqcnn::Model::initialize(config.model, data.vocab, data.labels, config.run.seed);
    const double initial_loss = seqcnn::evaluate(model, data.valid).loss;
    seqcnn::Trainer trainer(config, model, data.train, &data.valid);
    trainer.on_epoch([](const seqcnn::EpochReport& r) {
      std::printf("epoch %d: train loss %.4f, valid accuracy %.4f\n", r.epoch, r.train_loss, r.valid.accuracy);
    });
    trainer.run();
    const seqcnn::EvalResult valid = seqcnn::evaluate(model, data.valid);
    std::printf("valid loss %.4f -> %.4f, accuracy %.4f\n", initial_loss, valid.loss, valid.accuracy);

    if (!(valid.loss < initial_loss)) return std::fprintf(stderr, "the validation loss did not fall\n"), 1;

    seqcnn::save_checkpoint(argv[2], model, {.epoch = config.run.epochs});
    const seqcnn::LoadedCheckpoint loaded = seqcnn::load_checkpoint(argv[2]);
    if (!std::ranges::equal(loaded.model.flat(), model.flat()) ||
        seqcnn::evaluate(loaded.model, data.valid).loss != valid.loss)
      return std::fprintf(stderr, "the reloaded checkpoint differs from the trained model\n"), 1;
    std::printf("saved and reloaded %s (epoch %d)\n", argv[2], loaded.info.epoch);
  } catch (const seqcnn::Error& e) {  // every seqcnn failure, with a message naming its cause
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
