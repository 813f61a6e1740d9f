"""The replay, as a one-way pipeline (each module imports only the ones before it):

    levtoken.prices      price series (PricePoint)
    replay.records       what is recorded: TokenStep, Step, KeeperAction, ReplayResult
    replay.keepers       who acts after each price: FastKeeper and BotKeeper (one ReplayKeeper protocol), Liquidator
    replay.shadow        ModelShadow: the reference model beside the chain
    replay.replayer      Replayer: price -> feed -> keeper -> events read back -> liquidator -> snapshot -> records
    levtoken.report      the report, from records only

This package module imports nothing, so the report can read records without loading the chain side.
"""
