// Tabular regression: house prices from area, age and distance to the centre, generated from a known formula
// with noise (seeded). StandardScaler on the inputs, MinMaxScaler on the target, a Dense network trained
// with fit, predict, and inverse_transform back to dollars for the error.
#include <cstdio>
#include <memory>

#include <xgrad/xgrad.hpp>

using namespace xgrad;

int main() {
  Generator gen(42);
  // X (N, 3): area in m^2 in [40, 200), age in years in [0, 80), distance in km in [0.5, 30).
  const int N = 2000, n_train = 1600;
  Tensor X = rand({N, 3}, gen) * tensor({{160, 80, 29.5}}) + tensor({{40, 0, 0.5}});
  // price (N, 1) = 1500 area - 800 age - 2000 distance + 20000 sin(area / 30) + 60000, noise of sd 2000.
  Tensor area = X.index_select(1, tensor({0}));
  Tensor price = matmul(X, tensor({{1500}, {-800}, {-2000}})) + 20000.0f * sin(area / 30.0f) + 60000.0f +
                 2000.0f * randn({N, 1}, gen);
  Tensor train_rows = arange(n_train), test_rows = arange(n_train, N);
  Tensor X_train = X.index_select(0, train_rows), X_test = X.index_select(0, test_rows);
  Tensor y_train = price.index_select(0, train_rows), y_test = price.index_select(0, test_rows);

  StandardScaler x_scaler;  // fitted on the training rows only, as one would with real data
  MinMaxScaler y_scaler;
  x_scaler.fit(X_train);
  y_scaler.fit(y_train);
  DataLoader train(TensorDataset(x_scaler.transform(X_train), y_scaler.transform(y_train)),
                   {.batch_size = 32, .shuffle = true, .seed = 1});
  DataLoader test(TensorDataset(x_scaler.transform(X_test), y_scaler.transform(y_test)), {.batch_size = 400});

  Sequential model{std::make_shared<Dense>(3, 64, gen), std::make_shared<ReLU>(),
                   std::make_shared<Dense>(64, 64, gen), std::make_shared<ReLU>(), std::make_shared<Dense>(64, 1, gen)};
  Adam optimizer(model.parameters(), {.lr = 1e-3});
  // mse_loss on the scaled float targets; the validation MAE is in scaled units too.
  const auto history = fit(model, train, optimizer, {.epochs = 60, .validation = &test,
                                                     .metrics = {std::make_shared<MeanAbsoluteError>()},
                                                     .progress = false});
  std::printf("after %zu epochs: training loss %.6f, test MAE %.5f (scaled target)\n", history.size(),
              history.back().at("loss"), history.back().at("val_mae"));

  Tensor predicted = y_scaler.inverse_transform(predict(model, test));  // (400, 1), in dollars
  const double mae = mean(abs(predicted - y_test)).item();
  const double baseline = mean(abs(y_test - mean(y_train))).item();  // always guessing the mean price
  std::printf("test mean absolute error: $%.0f (guessing the mean price: $%.0f; noise sd $2000)\n", mae, baseline);
  std::printf("first test house: predicted $%.0f, actual $%.0f\n", predicted.to_vector()[0], y_test.to_vector()[0]);
  return 0;
}
