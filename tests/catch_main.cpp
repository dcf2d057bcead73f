// The Catch2 main, compiled once: every test file links against it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
