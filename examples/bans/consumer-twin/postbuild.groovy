// The build must have failed on the consumer's ban of duplicate classes, naming the class.
def log = new File(basedir, 'build.log').text
assert log.contains('Building Receptive consumer example') : 'not the consumer example build'
assert log.contains('BanDuplicateClasses failed') : 'the ban on duplicate classes did not fail the build'
assert log.contains('com/google/gson/Gson.class') : 'the duplicate class is not named'
true
