package dev.receptive.cli; public class Main { public static void main(String[] a){} }
